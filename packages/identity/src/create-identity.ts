import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { failureFor, type CredentialProviderSource, type FailureTable, type HttpComponent, type Platform } from '@gatehouse/core';
import { openIdentityDatabase } from './identity-database.ts';
import { SecretBox } from './secret-box.ts';
import { UserStore, type PoolRecord } from './user-store.ts';
import { KeyStore } from './key-store.ts';
import { GroupStore } from './group-store.ts';
import { CodeStore } from './code-store.ts';
import { TokenStore } from './token-store.ts';
import { RevocationPublisher } from './revocation-publisher.ts';
import { TokenMinter } from './token-minter.ts';
import { AccessKeyStore } from './access-key-store.ts';
import { bootstrapAdmin, bootstrapPools, SERVICE_CLIENTS, writeAdminCredentials } from './bootstrap-pools.ts';
import type { IdentityContext } from './identity-context.ts';
import { answerCognitoPreflight, handleCognito, isCognitoPreflight, isCognitoRequest } from './cognito-api.ts';
import { handleDiscovery, localIssuerFetch } from './discovery-routes.ts';
import { handleAgentCoreIdentity, isAgentCoreIdentityRequest } from './agentcore-identity-api.ts';
import { WorkloadIdentities, type WorkloadDefinition, type WorkloadToken } from './workload-identities.ts';
import { PerimeterSettings, type PerimeterDeclaration, type PerimeterResource, type PerimeterView } from './perimeter-settings.ts';
import { handleOAuth } from './oauth-routes.ts';
import { loadLoginCsrfKey } from './login-csrf.ts';
import { AuthError, createSigV4Verifier, type SigV4Key, type SigV4Verifier } from '@gatehouse/auth';
import { configuredProviders } from './vault/configured-providers.ts';
import { TokenVault } from './vault/token-vault.ts';
import { VaultStore } from './vault/vault-store.ts';
import { handleVaultRoute, VAULT_CALLBACK_PATH } from './vault/vault-routes.ts';

export interface PoolSummary {
  userPoolId: string;
  issuer: string;
  discoveryUrl: string;
  clients: { clientName: string; clientId: string }[];
}

export interface IdentityService extends HttpComponent {
  readonly defaultPool: { readonly userPoolId: string; readonly poolName: string; readonly issuer: string; readonly discoveryUrl: string; readonly webClientId: string };
  /** The pool's ids and clients as they were when identity started (pools are declared or made before; for start-up summaries and tests). */
  pool(poolName: string): PoolSummary | undefined;
  /** Confidential clients Gatehouse itself uses for RFC 8693 token exchange: 'runtime' acts for the user toward the gateway, 'gateway' toward targets. */
  serviceClient(name: 'runtime' | 'gateway', poolName?: string): { clientId: string; clientSecret: string; tokenEndpoint: string };
  /** Admin access keys (and nothing else) for SigV4 verification. */
  lookupAccessKey(accessKeyId: string): Promise<SigV4Key | undefined>;
  /** Set on the very first start only: the admin user's one-time password, for the CLI to print once. */
  readonly firstRun: { readonly username: string; readonly password: string } | undefined;
  readonly adminCredentialsFile: string;
  /** Revocation check for verifiers (origin_jti deny-list after RevokeToken / GlobalSignOut). */
  isRevoked(claims: Record<string, unknown>): Promise<boolean>;
  /**
   * For verifiers in this process: answers this Gatehouse's own discovery and JWKS documents
   * in-process and fetches anything else, so no verifier loops out through the public URL.
   */
  readonly fetch: typeof fetch;
  /** Declares the workload identities (one per runtime, named like it); replaces earlier ones. */
  registerWorkloads(definitions: readonly WorkloadDefinition[]): void;
  /** GetWorkloadAccessTokenForJWT in-process, acting as the runtime's service client. */
  workloadTokenForJwt(workloadName: string, userToken: string): Promise<WorkloadToken>;
  /** Live client and origin sets of a runtime or gateway (config plus `gatehouse perimeter` changes). */
  perimeter(resource: PerimeterResource, declaration: PerimeterDeclaration): PerimeterView;
  /** The token vault, in-process (the gateway attaches users' SaaS tokens with it). */
  readonly vault: TokenVault;
  /** Adds credential providers declared elsewhere (the control-plane API) after those of gatehouse.yaml. */
  addCredentialProviders(source: CredentialProviderSource): void;
  close(): Promise<void>;
}

export interface CreateIdentityOptions {
  readonly sigV4?: SigV4Verifier;
  /** Where GATEHOUSE_STORE_KEY is read (with PostgreSQL, identity's secrets are sealed with the shared sealing key); default process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

const SWEEP_INTERVAL_MS = 10 * 60_000;

/** Opens identity.db, creates or updates the declared pools, and returns the HTTP component for the one-port server. */
export async function createIdentity(platform: Platform, options: CreateIdentityOptions = {}): Promise<IdentityService> {
  const now = platform.clock;
  const database = await openIdentityDatabase({ dataDir: platform.dataDir, database: platform.config.database });
  let box: SecretBox;
  try {
    box = await SecretBox.forDatabase(platform.dataDir, database, options.env);
  } catch (error) {
    await database.close();
    throw error;
  }
  const users = new UserStore(database, now);
  const keys = new KeyStore(database, box, now);
  const tokens = new TokenStore(database, now);
  const accessKeys = new AccessKeyStore(database, box, now);
  const pools: PoolRecord[] = await bootstrapPools(platform, database, users, keys);
  const firstPool = pools[0]!;
  const firstRun = await bootstrapAdmin(database, users, accessKeys, firstPool);
  const adminCredentialsFile = await writeAdminCredentials(platform.dataDir, accessKeys, platform.config.region);
  const logger = platform.logger.child({ component: 'identity' });

  const revocations = new RevocationPublisher(tokens, platform.store, now, logger);
  const context: IdentityContext = {
    platform, users, keys, tokens, box, groups: new GroupStore(database, now), codes: new CodeStore(database, now), store: platform.store, logger, now,
    publishRevocations: () => revocations.publish(),
    minter: new TokenMinter(keys, now),
    defaultPoolId: firstPool.id,
    exchangedTokenValiditySeconds: platform.config.identity?.exchangedTokenValiditySeconds ?? 900,
    issuer: (poolId) => `${platform.baseUrl}/${poolId}`,
    atomically: (work) => database.transaction(work),
    userSignedOut: (poolId, username) => forgetVaultTokens(poolId, username),
  };

  await loadLoginCsrfKey(context);

  const lookupAccessKey = async (accessKeyId: string): Promise<SigV4Key | undefined> => {
    const key = await accessKeys.find(accessKeyId);
    // admin keys carry every permission: they are the operator's own credentials
    return key && { secretAccessKey: key.secretAccessKey, principal: { subject: key.principal, arn: `arn:aws:iam::${platform.config.accountId}:user/${key.principal}`, permissions: ['*'] } };
  };
  const sigV4 = options.sigV4 ?? createSigV4Verifier({ service: 'cognito-idp', region: platform.config.region, lookupKey: lookupAccessKey, clock: now });
  const agentCoreSigV4 = createSigV4Verifier({ service: 'bedrock-agentcore', region: platform.config.region, lookupKey: lookupAccessKey, clock: now });
  const localFetch = localIssuerFetch(context);
  const isRevoked = async (claims: Record<string, unknown>): Promise<boolean> => {
    if (typeof claims.origin_jti !== 'string') return false;
    // The local database first (every revocation made here); then the shared store, for
    // revocations made by an identity instance with another data dir. A store outage rejects: fail closed.
    const revokedHere = await tokens.isRevokedOrigin(claims.origin_jti).catch(failClosed);
    return revokedHere || (await revocations.isRevoked(claims.origin_jti));
  };
  const workloads = new WorkloadIdentities(context, { fetch: localFetch, isRevoked });
  const perimeter = new PerimeterSettings(database, users, now);
  const vaultStore = new VaultStore(database, box);
  const providerSources: CredentialProviderSource[] = [
    configuredProviders(platform.config.tokenVault, { region: platform.config.region, accountId: platform.config.accountId, dataDir: platform.dataDir }),
  ];
  const vault = new TokenVault({
    store: vaultStore,
    providers: () => providerSources,
    callbackUrl: `${platform.baseUrl}${VAULT_CALLBACK_PATH}`,
    consentTimeoutMs: (platform.config.tokenVault?.consentTimeoutSeconds ?? 600) * 1000,
    now,
    logger: logger.child({ part: 'token-vault' }),
  });
  const vaultDeps = { context, workloads, vault };
  // tokenVault.revokeOnSignOut: a user's SaaS tokens go with their Gatehouse sign-out (best effort at the SaaS).
  async function forgetVaultTokens(poolId: string, username: string): Promise<void> {
    if (!platform.config.tokenVault?.revokeOnSignOut) return;
    const user = await users.user(poolId, username);
    if (!user) return;
    const count = await vault.disconnect({ iss: context.issuer(poolId), sub: user.sub }).catch((error: unknown) => {
      logger.warn({ code: error instanceof Error ? error.name : 'Error' }, 'token vault: forgetting tokens at sign-out failed');
      return 0;
    });
    if (count > 0) logger.info({ count }, 'token vault: SaaS tokens forgotten at sign-out');
  }
  const runtimeActor = async (): Promise<{ sub: string; client_id: string }> => {
    const client = await users.clientByName(firstPool.id, SERVICE_CLIENTS.runtime);
    return { sub: SERVICE_CLIENTS.runtime, client_id: client?.id ?? '' };
  };

  const summary = async (pool: PoolRecord): Promise<PoolSummary> => ({
    userPoolId: pool.id,
    issuer: context.issuer(pool.id),
    discoveryUrl: `${context.issuer(pool.id)}/.well-known/openid-configuration`,
    clients: (await users.listClients(pool.id)).map((client) => ({ clientName: client.name, clientId: client.id })),
  });

  const sweeper = setInterval(() => {
    tokens.sweep().catch((error: unknown) => logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'identity sweep failed'));
    vaultStore.sweep(now()).catch((error: unknown) => logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'token vault sweep failed'));
  }, SWEEP_INTERVAL_MS);
  sweeper.unref();

  // Publishes what earlier runs, the CLI or a crash left unpublished, then keeps doing so every second.
  await revocations.publish().catch((error: unknown) => logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'revocations not yet published: the shared store is unavailable; retrying'));
  revocations.start();

  const summaries = new Map<string, PoolSummary>();
  for (const pool of await users.listPools()) summaries.set(pool.name, await summary(pool));
  // Service clients are made at bootstrap and their secrets never change: read once, used per token exchange.
  const serviceClients = new Map<string, { clientId: string; clientSecret: string }>();
  for (const pool of pools) {
    for (const name of Object.values(SERVICE_CLIENTS)) {
      const client = await users.clientByName(pool.id, name);
      if (client?.secret) serviceClients.set(`${pool.name}\n${name}`, { clientId: client.id, clientSecret: client.secret });
    }
  }
  const firstSummary = summaries.get(firstPool.name)!;
  const webClient = (await users.clientByName(firstPool.id, 'web')) ?? (await users.listClients(firstPool.id)).find((client) => !Object.values(SERVICE_CLIENTS).includes(client.name as never));
  let closed = false;

  return {
    name: 'identity',
    defaultPool: { userPoolId: firstPool.id, poolName: firstPool.name, issuer: firstSummary.issuer, discoveryUrl: firstSummary.discoveryUrl, webClientId: webClient?.id ?? '' },
    pool(poolName) {
      return summaries.get(poolName);
    },
    serviceClient(name, poolName) {
      const pool = poolName ?? firstPool.name;
      if (!summaries.has(pool)) throw new Error(`identity: no user pool named ${poolName}`);
      const client = serviceClients.get(`${pool}\n${SERVICE_CLIENTS[name]}`);
      if (!client) throw new Error(`identity: service client ${SERVICE_CLIENTS[name]} is missing`);
      return { ...client, tokenEndpoint: `${platform.baseUrl}/oauth2/token` };
    },
    lookupAccessKey,
    firstRun,
    adminCredentialsFile,
    isRevoked,
    fetch: localFetch,
    registerWorkloads: (definitions) => workloads.register(definitions),
    workloadTokenForJwt: async (workloadName, userToken) => workloads.forJwt(workloadName, userToken, await runtimeActor()),
    perimeter: (resource, declaration) => perimeter.view(resource, declaration),
    vault,
    addCredentialProviders: (source) => {
      providerSources.push(source);
    },
    async handle(request: IncomingMessage, response: ServerResponse, url: URL) {
      if (isAgentCoreIdentityRequest(url)) {
        if (await handleVaultRoute({ context, vault, logger }, request, response, url)) return true;
        await handleAgentCoreIdentity(vaultDeps, agentCoreSigV4, logger, request, response, url);
        return true;
      }
      if (isCognitoPreflight(request, url)) {
        answerCognitoPreflight(response);
        return true;
      }
      if (isCognitoRequest(request, url)) {
        await handleCognito(context, sigV4, request, response);
        return true;
      }
      if (await handleDiscovery(context, request.method ?? 'GET', url, response)) return true;
      return handleOAuth(context, request, response, url);
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(sweeper);
      workloads.close();
      perimeter.close();
      await revocations.stop();
      await database.close();
    },
  };
}

/** The revocation check's one table: without its database it fails closed as for an unreachable issuer (runtimes and gateways answer 503). */
const REVOCATION_FAILURES: FailureTable<AuthError> = {
  databaseUnavailable: () => new AuthError('issuer_unavailable', 'The identity database is unavailable to check revocation; retry shortly.'),
};

function failClosed(error: unknown): never {
  throw failureFor(REVOCATION_FAILURES, error) ?? error;
}

export const identityDataFile = (dataDir: string): string => path.join(dataDir, 'identity.db');
