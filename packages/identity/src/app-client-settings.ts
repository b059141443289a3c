import { CognitoError } from './cognito-error.ts';
import type { ClientFields } from './management-input.ts';
import type { ClientRecord, ClientSettings, PoolRecord } from './user-store.ts';

type Unit = 'seconds' | 'minutes' | 'hours' | 'days';
const UNIT_SECONDS: Record<Unit, number> = { seconds: 1, minutes: 60, hours: 3600, days: 86_400 };
const OIDC_SCOPES = ['openid', 'email', 'phone', 'profile', 'aws.cognito.signin.user.admin'];
const LEGACY_FLOWS: Readonly<Record<string, readonly string[]>> = {
  ADMIN_NO_SRP_AUTH: ['ALLOW_ADMIN_USER_PASSWORD_AUTH'],
  USER_PASSWORD_AUTH: ['ALLOW_USER_PASSWORD_AUTH'],
  CUSTOM_AUTH_FLOW_ONLY: ['ALLOW_CUSTOM_AUTH'],
};

/** A validity in `unit`, checked against Cognito's bounds (access and ID 5 min–1 day, refresh 1 hour–10 years). */
function validitySeconds(member: string, value: number, unit: Unit, bounds: { min: number; max: number }): number {
  const seconds = value * UNIT_SECONDS[unit];
  if (seconds < bounds.min || seconds > bounds.max) {
    throw new CognitoError('InvalidParameterException', `${member}: ${value} ${unit} is outside ${bounds.min / 60} minutes – ${bounds.max / 86_400} days`);
  }
  return seconds;
}

function checkUrls(member: string, urls: readonly string[]): void {
  for (const [index, url] of urls.entries()) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new CognitoError('InvalidParameterException', `${member}.${index}: ${url} is not an absolute URL`);
    }
    if (url.includes('#')) throw new CognitoError('InvalidParameterException', `${member}.${index}: a redirect URL must not contain a fragment`);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:' && !/^[a-z][\w+.-]*:$/.test(parsed.protocol)) {
      throw new CognitoError('InvalidParameterException', `${member}.${index}: ${url} has no usable scheme`);
    }
  }
}

/**
 * CreateUserPoolClient / UpdateUserPoolClient fields → effective client settings. As in Cognito,
 * an update replaces the whole configuration: a field left out returns to its default.
 */
export function clientSettingsFrom(input: ClientFields, pool: PoolRecord, hasSecret: boolean): ClientSettings {
  const units = input.TokenValidityUnits ?? {};
  const access = input.AccessTokenValidity ?? 60;
  const accessUnit: Unit = units.AccessToken ?? (input.AccessTokenValidity === undefined ? 'minutes' : 'hours');
  const id = input.IdTokenValidity ?? 60;
  const idUnit: Unit = units.IdToken ?? (input.IdTokenValidity === undefined ? 'minutes' : 'hours');
  const refresh = input.RefreshTokenValidity || 30;
  const refreshUnit: Unit = units.RefreshToken ?? 'days';
  const shortLived = { min: 300, max: 86_400 };
  const accessTokenSeconds = validitySeconds('AccessTokenValidity', access, accessUnit, shortLived);
  const idTokenSeconds = validitySeconds('IdTokenValidity', id, idUnit, shortLived);
  const refreshTokenSeconds = validitySeconds('RefreshTokenValidity', refresh, refreshUnit, { min: 3600, max: 3650 * 86_400 });

  const sentFlows = input.ExplicitAuthFlows ?? ['ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_CUSTOM_AUTH'];
  const legacy = sentFlows.filter((flow) => flow in LEGACY_FLOWS);
  if (legacy.length > 0 && legacy.length !== sentFlows.length) {
    throw new CognitoError('InvalidParameterException', `ExplicitAuthFlows: the legacy value ${legacy[0]} cannot be mixed with ALLOW_* values; use the ALLOW_* form`);
  }
  // legacy clients always allowed SRP and refresh, as Cognito's did
  const explicitAuthFlows = legacy.length > 0
    ? [...new Set([...legacy.flatMap((flow) => LEGACY_FLOWS[flow]!), ...(legacy.includes('CUSTOM_AUTH_FLOW_ONLY') ? [] : ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'])])]
    : [...new Set(sentFlows)];

  const callbackUrls = input.CallbackURLs ?? [];
  const logoutUrls = input.LogoutURLs ?? [];
  checkUrls('CallbackURLs', callbackUrls);
  checkUrls('LogoutURLs', logoutUrls);
  if (input.DefaultRedirectURI !== undefined && !callbackUrls.includes(input.DefaultRedirectURI)) {
    throw new CognitoError('InvalidParameterException', 'DefaultRedirectURI: must be one of CallbackURLs');
  }

  const flows = input.AllowedOAuthFlows ?? [];
  if (flows.includes('implicit')) throw new CognitoError('InvalidParameterException', 'AllowedOAuthFlows: implicit is not supported by Gatehouse; use code (with PKCE)');
  if (flows.includes('client_credentials') && flows.includes('code')) {
    throw new CognitoError('InvalidOAuthFlowException', 'AllowedOAuthFlows: client_credentials cannot be combined with code');
  }
  if (flows.includes('client_credentials') && !hasSecret) {
    throw new CognitoError('InvalidOAuthFlowException', 'AllowedOAuthFlows: client_credentials needs a client secret (GenerateSecret true)');
  }
  const oauthEnabled = input.AllowedOAuthFlowsUserPoolClient === true;
  if (oauthEnabled && flows.length === 0) throw new CognitoError('InvalidParameterException', 'AllowedOAuthFlows: required when AllowedOAuthFlowsUserPoolClient is true');
  if (oauthEnabled && flows.includes('code') && callbackUrls.length === 0) throw new CognitoError('InvalidParameterException', 'CallbackURLs: the code flow needs at least one callback URL');
  const scopes = input.AllowedOAuthScopes ?? [];
  const customScopes = pool.settings.resourceServers.flatMap((server) => server.scopes.map((scope) => `${server.identifier}/${scope}`));
  for (const scope of scopes) {
    if (!OIDC_SCOPES.includes(scope) && !customScopes.includes(scope)) throw new CognitoError('ScopeDoesNotExistException', `Invalid scope requested: ${scope}`);
  }
  if (oauthEnabled && scopes.length === 0) throw new CognitoError('InvalidParameterException', 'AllowedOAuthScopes: required when AllowedOAuthFlowsUserPoolClient is true');

  const echo: Record<string, unknown> = {
    ...input,
    ExplicitAuthFlows: sentFlows,
    RefreshTokenValidity: refresh, AccessTokenValidity: access, IdTokenValidity: id,
    TokenValidityUnits: { AccessToken: accessUnit, IdToken: idUnit, RefreshToken: refreshUnit },
  };
  for (const name of ['UserPoolId', 'ClientId', 'ClientName', 'GenerateSecret', 'ClientSecret']) delete echo[name];
  return {
    explicitAuthFlows, allowedOAuthFlows: oauthEnabled ? flows : [], allowedOAuthScopes: scopes, callbackUrls, logoutUrls,
    accessTokenSeconds, idTokenSeconds, refreshTokenSeconds,
    ...(input.PreventUserExistenceErrors ? { preventUserExistenceErrors: input.PreventUserExistenceErrors } : {}),
    cognito: echo,
  };
}

/** A validity in seconds expressed in the largest unit that divides it (clients from gatehouse.yaml or the CLI). */
function largestUnit(seconds: number, units: readonly Unit[]): { value: number; unit: Unit } {
  for (const unit of units) if (seconds % UNIT_SECONDS[unit] === 0) return { value: seconds / UNIT_SECONDS[unit], unit };
  return { value: seconds, unit: 'seconds' };
}

/** UserPoolClientType; the secret only where Cognito shows it (CreateUserPoolClient, DescribeUserPoolClient). */
export function userPoolClientShape(client: ClientRecord, pool: PoolRecord, withSecret: boolean): Record<string, unknown> {
  const settings = client.settings;
  const echo = settings.cognito;
  const access = largestUnit(settings.accessTokenSeconds, ['minutes']);
  const id = largestUnit(settings.idTokenSeconds, ['minutes']);
  const refresh = largestUnit(settings.refreshTokenSeconds, ['days', 'hours', 'minutes']);
  const nonEmpty = (name: string, list: readonly string[]): Record<string, readonly string[]> => (list.length > 0 ? { [name]: list } : {});
  return {
    SupportedIdentityProviders: ['COGNITO'],
    RefreshTokenValidity: refresh.value, AccessTokenValidity: access.value, IdTokenValidity: id.value,
    TokenValidityUnits: { AccessToken: access.unit, IdToken: id.unit, RefreshToken: refresh.unit },
    ExplicitAuthFlows: settings.explicitAuthFlows,
    ...nonEmpty('AllowedOAuthFlows', settings.allowedOAuthFlows),
    ...nonEmpty('AllowedOAuthScopes', settings.allowedOAuthScopes),
    ...echo,
    ...nonEmpty('CallbackURLs', settings.callbackUrls),
    ...nonEmpty('LogoutURLs', settings.logoutUrls),
    UserPoolId: client.poolId,
    ClientName: client.name,
    ClientId: client.id,
    ...(withSecret && client.secret ? { ClientSecret: client.secret } : {}),
    CreationDate: (client.createdAt ?? 0) / 1000,
    LastModifiedDate: (client.updatedAt ?? client.createdAt ?? 0) / 1000,
    AllowedOAuthFlowsUserPoolClient: settings.allowedOAuthFlows.length > 0,
    PreventUserExistenceErrors: settings.preventUserExistenceErrors ?? pool.settings.preventUserExistenceErrors,
    EnableTokenRevocation: true,
    EnablePropagateAdditionalUserContextData: false,
    AuthSessionValidity: 3,
  };
}
