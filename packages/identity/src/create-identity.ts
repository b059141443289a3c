import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { failureFor, type CredentialProviderSource, type FailureTable, type HttpComponent, type Logger, type Platform } from '@gatehouse/core';
import type { PoolRecord } from './user-store.ts';
import { GroupStore } from './group-store.ts';
import { CodeStore } from './code-store.ts';
import { RevocationPublisher } from './revocation-publisher.ts';
import { TokenMinter } from './token-minter.ts';
import { bootstrapAdmin, bootstrapPools, SERVICE_CLIENTS, writeAdminCredentials } from './bootstrap-pools.ts';
import type { IdentityContext } from './identity-context.ts';
import { localIssuerFetch } from './discovery-routes.ts';
import { WorkloadIdentities, type WorkloadDefinition, type WorkloadToken } from './workload-identities.ts';
import { PerimeterSettings, type PerimeterDeclaration, type PerimeterResource, type PerimeterView } from './perimeter-settings.ts';
import { loadLoginCsrfKey } from './login-csrf.ts';
import { AuthError, createSigV4Verifier, type SigV4Key, type SigV4Verifier } from '@gatehouse/auth';
import type { TokenVault } from './vault/token-vault.ts';
import type { VaultStore } from './vault/vault-store.ts';
import { openIdentityStores, type IdentityStores } from './identity-stores.ts';
import { createIdentityVault, forgetVaultTokens } from './identity-vault.ts';
import { readPoolDirectory, type PoolDirectory, type PoolSummary } from './pool-directory.ts';
import { routeIdentityRequest } from './route-identity-request.ts';

export type { PoolSummary } from './pool-directory.ts';

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

/** Admin access keys (and nothing else) as SigV4 keys: they carry every permission, being the operator's own credentials. */
function adminKeyLookup({ accessKeys }: IdentityStores, accountId: string): (accessKeyId: string) => Promise<SigV4Key | undefined> {
  return async (accessKeyId) => {
    const key = await accessKeys.find(accessKeyId);
    return key && { secretAccessKey: key.secretAccessKey, principal: { subject: key.principal, arn: `arn:aws:iam::${accountId}:user/${key.principal}`, permissions: ['*'] } };
  };
}

/**
 * The local database first (every revocation made here); then the shared store, for revocations made by an
 * identity instance with another data dir. A store outage rejects: fail closed.
 */
function revocationCheck({ tokens }: IdentityStores, revocations: RevocationPublisher): (claims: Record<string, unknown>) => Promise<boolean> {
  return async (claims) => {
    if (typeof claims.origin_jti !== 'string') return false;
    const revokedHere = await tokens.isRevokedOrigin(claims.origin_jti).catch(failClosed);
    return revokedHere || (await revocations.isRevoked(claims.origin_jti));
  };
}

const warnFailure = (logger: Logger, message: string) => (error: unknown): void => logger.warn({ err: error instanceof Error ? error.message : String(error) }, message);

function startSweeper(stores: IdentityStores, vaultStore: VaultStore, platform: Platform, logger: Logger): NodeJS.Timeout {
  const sweeper = setInterval(() => {
    stores.tokens.sweep().catch(warnFailure(logger, 'identity sweep failed'));
    vaultStore.sweep(platform.clock()).catch(warnFailure(logger, 'token vault sweep failed'));
  }, SWEEP_INTERVAL_MS);
  sweeper.unref();
  return sweeper;
}

interface ContextParts {
  readonly stores: IdentityStores;
  readonly firstPool: PoolRecord;
  readonly logger: Logger;
  readonly revocations: RevocationPublisher;
  readonly vault: TokenVault;
}

function identityContext(platform: Platform, { stores, firstPool, logger, revocations, vault }: ContextParts): IdentityContext {
  const { database, users, keys, tokens, box } = stores;
  const now = platform.clock;
  const issuer = (poolId: string): string => `${platform.baseUrl}/${poolId}`;
  return {
    platform, users, keys, tokens, box, groups: new GroupStore(database, now), codes: new CodeStore(database, now), store: platform.store, logger, now,
    publishRevocations: () => revocations.publish(),
    minter: new TokenMinter(keys, now),
    defaultPoolId: firstPool.id,
    exchangedTokenValiditySeconds: platform.config.identity?.exchangedTokenValiditySeconds ?? 900,
    issuer,
    atomically: (work) => database.transaction(work),
    userSignedOut: (poolId, username) => forgetVaultTokens({ platform, users, vault, logger, issuer }, poolId, username),
  };
}

function serviceClientOf(platform: Platform, directory: PoolDirectory, request: { name: 'runtime' | 'gateway'; poolName: string | undefined; firstPoolName: string }): { clientId: string; clientSecret: string; tokenEndpoint: string } {
  const { name, poolName } = request;
  const pool = poolName ?? request.firstPoolName;
  if (!directory.summaries.has(pool)) throw new Error(`identity: no user pool named ${poolName}`);
  const client = directory.serviceClients.get(`${pool}\n${SERVICE_CLIENTS[name]}`);
  if (!client) throw new Error(`identity: service client ${SERVICE_CLIENTS[name]} is missing`);
  return { ...client, tokenEndpoint: `${platform.baseUrl}/oauth2/token` };
}

/**
 * Opens identity.db, creates or updates the declared pools, and returns the HTTP component for the one-port server.
 * Steps: stores → pools and admin → context (with the vault) → SigV4 verifiers → workloads, perimeter → sweeper and
 * revocation publishing → pool directory.
 */
export async function createIdentity(platform: Platform, options: CreateIdentityOptions = {}): Promise<IdentityService> {
  const now = platform.clock;
  const stores = await openIdentityStores(platform, options.env);
  const { database, users, keys, tokens, accessKeys } = stores;
  const pools: PoolRecord[] = await bootstrapPools(platform, database, users, keys);
  const firstPool = pools[0]!;
  const firstRun = await bootstrapAdmin(database, users, accessKeys, firstPool);
  const adminCredentialsFile = await writeAdminCredentials(platform.dataDir, accessKeys, platform.config.region);
  const logger = platform.logger.child({ component: 'identity' });
  const revocations = new RevocationPublisher(tokens, platform.store, now, logger);
  const { vault, vaultStore, providerSources } = createIdentityVault(platform, stores, logger);
  const context = identityContext(platform, { stores, firstPool, logger, revocations, vault });
  await loadLoginCsrfKey(context);

  const lookupAccessKey = adminKeyLookup(stores, platform.config.accountId);
  const sigV4 = options.sigV4 ?? createSigV4Verifier({ service: 'cognito-idp', region: platform.config.region, lookupKey: lookupAccessKey, clock: now });
  const agentCoreSigV4 = createSigV4Verifier({ service: 'bedrock-agentcore', region: platform.config.region, lookupKey: lookupAccessKey, clock: now });
  const localFetch = localIssuerFetch(context);
  const isRevoked = revocationCheck(stores, revocations);
  const workloads = new WorkloadIdentities(context, { fetch: localFetch, isRevoked });
  const perimeter = new PerimeterSettings(database, users, now);
  const routes = { context, vaultDeps: { context, workloads, vault }, logger, cognitoSigV4: sigV4, agentCoreSigV4 };
  const runtimeActor = async (): Promise<{ sub: string; client_id: string }> => {
    const client = await users.clientByName(firstPool.id, SERVICE_CLIENTS.runtime);
    return { sub: SERVICE_CLIENTS.runtime, client_id: client?.id ?? '' };
  };
  const sweeper = startSweeper(stores, vaultStore, platform, logger);
  // Publishes what earlier runs, the CLI or a crash left unpublished, then keeps doing so every second.
  await revocations.publish().catch(warnFailure(logger, 'revocations not yet published: the shared store is unavailable; retrying'));
  revocations.start();

  const directory = await readPoolDirectory(users, pools, context.issuer);
  const firstSummary = directory.summaries.get(firstPool.name)!;
  let closed = false;

  return {
    name: 'identity',
    defaultPool: { userPoolId: firstPool.id, poolName: firstPool.name, issuer: firstSummary.issuer, discoveryUrl: firstSummary.discoveryUrl, webClientId: directory.webClientId },
    pool: (poolName) => directory.summaries.get(poolName),
    serviceClient: (name, poolName) => serviceClientOf(platform, directory, { name, poolName, firstPoolName: firstPool.name }),
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
    handle: (request: IncomingMessage, response: ServerResponse, url: URL) => routeIdentityRequest(routes, request, response, url),
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
