import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Aws } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type { Construct } from 'constructs';
import type { PlannedWebClient } from './deploy-plan.ts';

export interface CognitoStackProps extends StackProps {
  readonly web: PlannedWebClient;
  /** The CloudFront URL the web app is served from (`https://…/`): always a callback and logout URL. */
  readonly appUrl: string;
}

/** Seed 004's Cognito stack: one user pool, the web app's public client (no secret, code flow with PKCE) and a hosted domain. */
export class CognitoStack extends Stack {
  readonly userPool: cognito.UserPool;
  readonly webClient: cognito.UserPoolClient;
  readonly domain: cognito.UserPoolDomain;
  /** `https://cognito-idp.{region}.amazonaws.com/{poolId}`: the tokens' `iss`. */
  readonly issuer: string;
  readonly discoveryUrl: string;

  constructor(scope: Construct, id: string, props: CognitoStackProps) {
    super(scope, id, props);
    const { web } = props;
    this.userPool = new cognito.UserPool(this, 'UserPool', {
      userPoolName: web.poolName,
      selfSignUpEnabled: web.signUpEnabled,
      signInCaseSensitive: web.caseSensitive,
      signInAliases: { username: true, email: true },
      passwordPolicy: { minLength: 12, requireDigits: true, requireLowercase: true, requireUppercase: true, requireSymbols: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const group of web.groups) new cognito.CfnUserPoolGroup(this, `Group-${group}`, { userPoolId: this.userPool.userPoolId, groupName: group });
    const scopes = web.scopes.map((scope) => cognito.OAuthScope.custom(scope));
    this.webClient = this.userPool.addClient('WebClient', {
      userPoolClientName: web.clientName,
      // A browser app cannot keep a secret (seed 001): a public client, authorization code flow with PKCE only.
      generateSecret: false,
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true, implicitCodeGrant: false, clientCredentials: false },
        scopes,
        callbackUrls: [props.appUrl, ...web.callbackUrls],
        logoutUrls: [props.appUrl, ...web.logoutUrls],
      },
      preventUserExistenceErrors: true,
      accessTokenValidity: Duration.minutes(60),
      idTokenValidity: Duration.minutes(60),
      refreshTokenValidity: Duration.days(30),
      enableTokenRevocation: true,
    });
    // Hosted domain prefixes are global: the account id (a deploy-time value, never written here) keeps it unique.
    this.domain = this.userPool.addDomain('HostedDomain', { cognitoDomain: { domainPrefix: `${web.poolName.toLowerCase().replace(/[^a-z0-9-]/g, '-')}-${Aws.ACCOUNT_ID}` } });
    // Spelled as aws-cdk-lib's Cognito authorizers spell it, so the runtime's and gateway's discovery URLs equal this one.
    this.issuer = `https://cognito-idp.${Stack.of(this).region}.amazonaws.com/${this.userPool.userPoolId}`;
    this.discoveryUrl = `${this.issuer}/.well-known/openid-configuration`;

    new CfnOutput(this, 'UserPoolId', { value: this.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: this.webClient.userPoolClientId });
    new CfnOutput(this, 'Issuer', { value: this.issuer });
    new CfnOutput(this, 'DiscoveryUrl', { value: this.discoveryUrl });
    new CfnOutput(this, 'HostedUiUrl', { value: this.domain.baseUrl() });
  }
}
