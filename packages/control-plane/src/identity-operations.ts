import { isHttpsOrLoopbackUrl } from '@gatehouse/core';
import { ControlPlaneError, declaredInConfig, fieldError, notFound } from './control-plane-error.ts';
import { arn, idSuffix, type ControlPlaneContext, type Operation } from './control-plane-context.ts';
import { nested, oneMember, optionalEnum, optionalString, optionalStringList, optionalStringMap, requiredEnum, requiredObject, requiredString, type Input } from './input-fields.ts';
import { paginate } from './paginate.ts';

const WORKLOAD_NAME = { pattern: /^[A-Za-z0-9_.-]+$/, patternHint: 'hold only letters, digits, _ . and -', min: 3, max: 255 };
const PROVIDER_NAME = { pattern: /^[a-zA-Z0-9_-]+$/, patternHint: 'hold only letters, digits, _ and -', max: 128 };
const VENDORS = [
  'GoogleOauth2', 'GithubOauth2', 'SlackOauth2', 'SalesforceOauth2', 'MicrosoftOauth2', 'CustomOauth2', 'AtlassianOauth2', 'LinkedinOauth2',
  'XOauth2', 'OktaOauth2', 'OneLoginOauth2', 'PingOneOauth2', 'FacebookOauth2', 'YandexOauth2', 'RedditOauth2', 'ZoomOauth2', 'TwitchOauth2',
  'SpotifyOauth2', 'DropboxOauth2', 'NotionOauth2', 'HubspotOauth2', 'CyberArkOauth2', 'FusionAuthOauth2', 'Auth0Oauth2', 'CognitoOauth2',
] as const;
const CONFIG_MEMBERS = [
  'customOauth2ProviderConfig', 'googleOauth2ProviderConfig', 'githubOauth2ProviderConfig', 'slackOauth2ProviderConfig', 'salesforceOauth2ProviderConfig',
  'microsoftOauth2ProviderConfig', 'atlassianOauth2ProviderConfig', 'linkedinOauth2ProviderConfig', 'includedOauth2ProviderConfig',
];

interface WorkloadIdentityRecord {
  readonly name: string;
  readonly workloadIdentityArn: string;
  readonly allowedResourceOauth2ReturnUrls: readonly string[];
  readonly createdTime: number;
  readonly lastUpdatedTime: number;
  /** The runtime this identity was created with; it goes with that runtime. */
  readonly ownedBy?: string;
}

interface ProviderRecord {
  readonly name: string;
  readonly credentialProviderArn: string;
  readonly secretArn: string;
  readonly createdTime: number;
  readonly lastUpdatedTime: number;
  readonly credentialProviderVendor?: string;
  /** The provider configuration as returned: secrets removed. */
  readonly oauth2ProviderConfigOutput?: Record<string, unknown>;
}

export function workloadIdentityArn(context: ControlPlaneContext, name: string): string {
  return arn(context, `workload-identity-directory/default/workload-identity/${name}`);
}

function epochSeconds(context: ControlPlaneContext): number {
  return Math.floor(context.now().getTime() / 1000);
}

function returnUrls(body: Input): string[] | undefined {
  const urls = optionalStringList(body, 'allowedResourceOauth2ReturnUrls', { max: 2048, maxItems: 50 });
  urls?.forEach((url, index) => {
    if (!isHttpsOrLoopbackUrl(url)) throw fieldError(`allowedResourceOauth2ReturnUrls[${index}]`, 'must be an https URL (plain http only for localhost / 127.0.0.1)');
  });
  return urls;
}

/** Inserts a workload identity (inside the caller's transaction when it makes one with a runtime). */
export async function createWorkloadIdentityRecord(context: ControlPlaneContext, name: string, urls: readonly string[], ownedBy?: string): Promise<WorkloadIdentityRecord> {
  const now = epochSeconds(context);
  const record: WorkloadIdentityRecord = { name, workloadIdentityArn: workloadIdentityArn(context, name), allowedResourceOauth2ReturnUrls: urls, createdTime: now, lastUpdatedTime: now, ...(ownedBy ? { ownedBy } : {}) };
  await context.store.insert('workload-identity', { id: name, parent: '', name, body: record });
  return record;
}

function isDeclaredWorkload(context: ControlPlaneContext, name: string): boolean {
  return context.declaredRuntimes.some((runtime) => runtime.agentRuntimeName === name);
}

function workloadView(record: WorkloadIdentityRecord): Record<string, unknown> {
  const { ownedBy: _owner, ...view } = record;
  return view;
}

function declaredWorkload(context: ControlPlaneContext, name: string): WorkloadIdentityRecord {
  const at = Math.floor(context.startedAt.getTime() / 1000);
  return { name, workloadIdentityArn: workloadIdentityArn(context, name), allowedResourceOauth2ReturnUrls: [], createdTime: at, lastUpdatedTime: at };
}

async function findWorkload(context: ControlPlaneContext, name: string): Promise<WorkloadIdentityRecord> {
  if (isDeclaredWorkload(context, name)) return declaredWorkload(context, name);
  const stored = await context.store.get<WorkloadIdentityRecord>('workload-identity', name);
  if (!stored) throw notFound('Workload identity', name);
  return stored.body;
}

async function storedWorkload(context: ControlPlaneContext, name: string, action: string): Promise<WorkloadIdentityRecord> {
  if (isDeclaredWorkload(context, name)) throw declaredInConfig('workload identity', name, action);
  return await findWorkload(context, name);
}

const createWorkloadIdentity: Operation = async (context, { body }) => {
  const name = requiredString(body, 'name', WORKLOAD_NAME);
  const urls = returnUrls(body) ?? [];
  optionalStringMap(body, 'tags', 50);
  if (isDeclaredWorkload(context, name)) throw new ControlPlaneError('ConflictException', `Workload identity ${name} exists (declared with the runtime of that name in gatehouse.yaml)`);
  const record = await createWorkloadIdentityRecord(context, name, urls);
  return { status: 201, body: { name, workloadIdentityArn: record.workloadIdentityArn, allowedResourceOauth2ReturnUrls: urls } };
};

const getWorkloadIdentity: Operation = async (context, { body }) => ({
  status: 200,
  body: workloadView(await findWorkload(context, requiredString(body, 'name', WORKLOAD_NAME))),
});

const updateWorkloadIdentity: Operation = async (context, { body }) => {
  const record = await storedWorkload(context, requiredString(body, 'name', WORKLOAD_NAME), 'update');
  const urls = returnUrls(body) ?? [];
  const updated: WorkloadIdentityRecord = { ...record, allowedResourceOauth2ReturnUrls: urls, lastUpdatedTime: epochSeconds(context) };
  await context.store.update('workload-identity', record.name, updated);
  return { status: 200, body: workloadView(updated) };
};

const deleteWorkloadIdentity: Operation = async (context, { body }) => {
  const record = await storedWorkload(context, requiredString(body, 'name', WORKLOAD_NAME), 'delete');
  if (record.ownedBy) throw new ControlPlaneError('ConflictException', `Workload identity ${record.name} belongs to agent runtime ${record.ownedBy}; delete the runtime and it goes too`);
  await context.store.delete('workload-identity', record.name);
  return { status: 204 };
};

const listWorkloadIdentities: Operation = async (context, { body }) => {
  const all = [
    ...context.declaredRuntimes.map((runtime) => declaredWorkload(context, runtime.agentRuntimeName)),
    ...(await context.store.list<WorkloadIdentityRecord>('workload-identity')).map((row) => row.body),
  ].map(({ name, workloadIdentityArn: identityArn }) => ({ name, workloadIdentityArn: identityArn }));
  const page = paginate(all, body.maxResults, body.nextToken, 20);
  return { status: 200, body: { workloadIdentities: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) } };
};

function secretArn(context: ControlPlaneContext, kind: string, name: string): string {
  return `arn:aws:secretsmanager:${context.region}:${context.accountId}:secret:bedrock-agentcore-identity!default/${kind}/${name}-${idSuffix().slice(0, 6)}`;
}

/** The OAuth2 provider input checked; returns the output shape (no secret) and the secret to seal. */
function oauth2Config(body: Input, vendor: string): { output: Record<string, unknown>; secret: { clientSecret: string } | undefined } {
  const input = requiredObject(body, 'oauth2ProviderConfigInput');
  const member = oneMember(input, 'oauth2ProviderConfigInput', CONFIG_MEMBERS);
  if (member === 'customOauth2ProviderConfig' && vendor !== 'CustomOauth2') throw fieldError('credentialProviderVendor', 'must be CustomOauth2 with customOauth2ProviderConfig');
  const config = requiredObject(input, member);
  return nested(`oauth2ProviderConfigInput.${member}`, () => {
    const clientId = optionalString(config, 'clientId', { min: 0, max: 256 });
    const clientSecret = optionalString(config, 'clientSecret', { min: 0, max: 2048 });
    const output: Record<string, unknown> = {};
    if (member === 'customOauth2ProviderConfig') {
      const discovery = requiredObject(config, 'oauthDiscovery');
      nested('oauthDiscovery', () => {
        const which = oneMember(discovery, 'oauthDiscovery', ['discoveryUrl', 'authorizationServerMetadata']);
        if (which === 'discoveryUrl') {
          const url = requiredString(discovery, 'discoveryUrl', { max: 2048, pattern: /^.+\/\.well-known\/(openid-configuration|oauth-authorization-server)$/, patternHint: 'end in /.well-known/openid-configuration or /.well-known/oauth-authorization-server' });
          if (!isHttpsOrLoopbackUrl(url)) throw fieldError('discoveryUrl', 'must use https (plain http only for localhost / 127.0.0.1)');
          output.oauthDiscovery = { discoveryUrl: url };
        } else {
          const metadata = requiredObject(discovery, 'authorizationServerMetadata');
          const checked = nested('authorizationServerMetadata', () => {
            const issuer = requiredString(metadata, 'issuer', { max: 2048 });
            const urls: Record<string, string> = { issuer };
            for (const field of ['authorizationEndpoint', 'tokenEndpoint']) {
              const url = requiredString(metadata, field, { max: 2048 });
              if (!isHttpsOrLoopbackUrl(url)) throw fieldError(field, 'must use https (plain http only for localhost / 127.0.0.1)');
              urls[field] = url;
            }
            const methods = optionalStringList(metadata, 'responseTypes', { max: 64, maxItems: 10 });
            return { ...urls, ...(methods ? { responseTypes: methods } : {}) };
          });
          output.oauthDiscovery = { authorizationServerMetadata: checked };
        }
      });
      const method = optionalEnum(config, 'clientAuthenticationMethod', ['CLIENT_SECRET_BASIC', 'CLIENT_SECRET_POST', 'AWS_IAM_ID_TOKEN_JWT']);
      if (method) output.clientAuthenticationMethod = method;
    }
    if (clientId) output.clientId = clientId;
    return { output: { [member]: output }, secret: clientSecret ? { clientSecret } : undefined };
  });
}

function providerName(body: Input): string {
  return requiredString(body, 'name', PROVIDER_NAME);
}

async function findProvider(context: ControlPlaneContext, kind: 'oauth2-credential-provider' | 'api-key-credential-provider', name: string): Promise<ProviderRecord> {
  const stored = await context.store.get<ProviderRecord>(kind, name);
  if (!stored) throw notFound(kind === 'oauth2-credential-provider' ? 'OAuth2 credential provider' : 'API key credential provider', name);
  return stored.body;
}

/** Where the provider sends the user back after consent (register it at the provider): the token vault's callback. */
function callbackUrl(context: ControlPlaneContext): string {
  return `${context.baseUrl}/identities/oauth2/callback`;
}

function oauth2View(context: ControlPlaneContext, record: ProviderRecord): Record<string, unknown> {
  return {
    clientSecretArn: { secretArn: record.secretArn },
    callbackUrl: callbackUrl(context),
    name: record.name,
    credentialProviderArn: record.credentialProviderArn,
    credentialProviderVendor: record.credentialProviderVendor,
    oauth2ProviderConfigOutput: record.oauth2ProviderConfigOutput,
    createdTime: record.createdTime,
    lastUpdatedTime: record.lastUpdatedTime,
    status: 'READY',
  };
}

const createOauth2CredentialProvider: Operation = async (context, { body }) => {
  const name = providerName(body);
  const vendor = requiredEnum(body, 'credentialProviderVendor', VENDORS);
  const { output, secret } = oauth2Config(body, vendor);
  optionalStringMap(body, 'tags', 50);
  const now = epochSeconds(context);
  const record: ProviderRecord = {
    name,
    credentialProviderArn: arn(context, `token-vault/default/oauth2credentialprovider/${name}`),
    secretArn: secretArn(context, 'oauth2', name),
    createdTime: now,
    lastUpdatedTime: now,
    credentialProviderVendor: vendor,
    oauth2ProviderConfigOutput: output,
  };
  await context.store.insert('oauth2-credential-provider', { id: name, parent: '', name, body: record }, secret ?? {});
  const { createdTime: _created, lastUpdatedTime: _updated, credentialProviderVendor: _vendor, ...view } = oauth2View(context, record);
  return { status: 201, body: view };
};

const getOauth2CredentialProvider: Operation = async (context, { body }) => ({ status: 200, body: oauth2View(context, await findProvider(context, 'oauth2-credential-provider', providerName(body))) });

const updateOauth2CredentialProvider: Operation = async (context, { body }) => {
  const record = await findProvider(context, 'oauth2-credential-provider', providerName(body));
  const vendor = requiredEnum(body, 'credentialProviderVendor', VENDORS);
  const { output, secret } = oauth2Config(body, vendor);
  const updated: ProviderRecord = { ...record, credentialProviderVendor: vendor, oauth2ProviderConfigOutput: output, lastUpdatedTime: epochSeconds(context) };
  await context.store.update('oauth2-credential-provider', record.name, updated, secret ?? {});
  return { status: 200, body: oauth2View(context, updated) };
};

async function deleteProvider(context: ControlPlaneContext, kind: 'oauth2-credential-provider' | 'api-key-credential-provider', body: Input, referencedBy: (providerArn: string) => Promise<string | undefined>): Promise<{ status: number }> {
  const record = await findProvider(context, kind, providerName(body));
  const user = await referencedBy(record.credentialProviderArn);
  if (user) throw new ControlPlaneError('ConflictException', `Credential provider ${record.name} is used by gateway target ${user}; remove it from that target first`);
  await context.store.delete(kind, record.name);
  return { status: 204 };
}

const listOauth2CredentialProviders: Operation = async (context, { body }) => {
  const all = (await context.store.list<ProviderRecord>('oauth2-credential-provider')).map(({ body: record }) => ({
    name: record.name,
    credentialProviderVendor: record.credentialProviderVendor,
    credentialProviderArn: record.credentialProviderArn,
    createdTime: record.createdTime,
    lastUpdatedTime: record.lastUpdatedTime,
  }));
  const page = paginate(all, body.maxResults, body.nextToken, 20);
  return { status: 200, body: { credentialProviders: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) } };
};

function apiKeyView(record: ProviderRecord): Record<string, unknown> {
  return { apiKeySecretArn: { secretArn: record.secretArn }, name: record.name, credentialProviderArn: record.credentialProviderArn, createdTime: record.createdTime, lastUpdatedTime: record.lastUpdatedTime };
}

function apiKey(body: Input): string {
  return requiredString(body, 'apiKey', { max: 65_536 });
}

const createApiKeyCredentialProvider: Operation = async (context, { body }) => {
  const name = providerName(body);
  const key = apiKey(body);
  optionalStringMap(body, 'tags', 50);
  const now = epochSeconds(context);
  const record: ProviderRecord = {
    name,
    credentialProviderArn: arn(context, `token-vault/default/apikeycredentialprovider/${name}`),
    secretArn: secretArn(context, 'apikey', name),
    createdTime: now,
    lastUpdatedTime: now,
  };
  await context.store.insert('api-key-credential-provider', { id: name, parent: '', name, body: record }, { apiKey: key });
  return { status: 201, body: { apiKeySecretArn: { secretArn: record.secretArn }, name, credentialProviderArn: record.credentialProviderArn } };
};

const getApiKeyCredentialProvider: Operation = async (context, { body }) => ({ status: 200, body: apiKeyView(await findProvider(context, 'api-key-credential-provider', providerName(body))) });

const updateApiKeyCredentialProvider: Operation = async (context, { body }) => {
  const record = await findProvider(context, 'api-key-credential-provider', providerName(body));
  const key = apiKey(body);
  const updated: ProviderRecord = { ...record, lastUpdatedTime: epochSeconds(context) };
  await context.store.update('api-key-credential-provider', record.name, updated, { apiKey: key });
  return { status: 200, body: apiKeyView(updated) };
};

const listApiKeyCredentialProviders: Operation = async (context, { body }) => {
  const all = (await context.store.list<ProviderRecord>('api-key-credential-provider')).map(({ body: record }) => ({
    name: record.name,
    credentialProviderArn: record.credentialProviderArn,
    createdTime: record.createdTime,
    lastUpdatedTime: record.lastUpdatedTime,
  }));
  const page = paginate(all, body.maxResults, body.nextToken, 100);
  return { status: 200, body: { credentialProviders: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) } };
};

const getTokenVault: Operation = async (context, { body }) => {
  const id = optionalString(body, 'tokenVaultId', { pattern: /^[a-zA-Z0-9_-]+$/, patternHint: 'hold only letters, digits, _ and -', max: 64 }) ?? 'default';
  if (id !== 'default') throw notFound('Token vault', id);
  // Secrets are sealed under the data dir's store key (AES-256-GCM); there is no KMS key to name.
  return { status: 200, body: { tokenVaultId: 'default', kmsConfiguration: { keyType: 'ServiceManagedKey' }, lastModifiedDate: Math.floor(context.startedAt.getTime() / 1000) } };
};

/** Which gateway target (by name) uses the provider with this ARN, if any. */
export type ProviderReferences = (context: ControlPlaneContext, providerArn: string) => Promise<string | undefined>;

export function identityOperations(referencedBy: ProviderReferences): Record<string, Operation> {
  return {
    CreateWorkloadIdentity: createWorkloadIdentity,
    GetWorkloadIdentity: getWorkloadIdentity,
    UpdateWorkloadIdentity: updateWorkloadIdentity,
    DeleteWorkloadIdentity: deleteWorkloadIdentity,
    ListWorkloadIdentities: listWorkloadIdentities,
    CreateOauth2CredentialProvider: createOauth2CredentialProvider,
    GetOauth2CredentialProvider: getOauth2CredentialProvider,
    UpdateOauth2CredentialProvider: updateOauth2CredentialProvider,
    DeleteOauth2CredentialProvider: async (context, { body }) => deleteProvider(context, 'oauth2-credential-provider', body, (providerArn) => referencedBy(context, providerArn)),
    ListOauth2CredentialProviders: listOauth2CredentialProviders,
    CreateApiKeyCredentialProvider: createApiKeyCredentialProvider,
    GetApiKeyCredentialProvider: getApiKeyCredentialProvider,
    UpdateApiKeyCredentialProvider: updateApiKeyCredentialProvider,
    DeleteApiKeyCredentialProvider: async (context, { body }) => deleteProvider(context, 'api-key-credential-provider', body, (providerArn) => referencedBy(context, providerArn)),
    ListApiKeyCredentialProviders: listApiKeyCredentialProviders,
    GetTokenVault: getTokenVault,
  };
}

