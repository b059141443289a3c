import type { CredentialProviderSource } from '@gatehouse/core';
import { controlPlaneCredentialProviders, type ControlPlaneCredentialProviders } from './credential-provider-source.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuthError, createSigV4Verifier, type Principal, type SigV4Key, type SigV4Verifier } from '@gatehouse/auth';
import { loadSealingKey } from '@gatehouse/cluster';
import { failureFor, parseJson, readBodyFor, sendJson, sendWire, type FailureTable, type HttpComponent, type Logger, type Platform } from '@gatehouse/core';
import { ControlPlaneError } from './control-plane-error.ts';
import type { ControlPlaneContext, Operation, OperationResult } from './control-plane-context.ts';
import { matchRoute } from './control-plane-routes.ts';
import { ResourceStore } from './resource-store.ts';
import type { CodeProbe, CodeSource } from './code-artifact.ts';
import { commandRoots } from './command-agent.ts';
import { CallerRateLimiter, checkQuota, ClientTokens } from './request-guards.ts';
import { runtimeOperations } from './runtime-operations.ts';
import { gatewayOperations, targetUsingProvider } from './gateway-operations.ts';
import { identityOperations } from './identity-operations.ts';
import type { GatewayHost } from './gateway-serving.ts';
import type { RuntimeHost, WorkloadAnnouncement } from './runtime-serving.ts';
import { ChangeFollowing } from './change-following.ts';
import { VersionPreparation } from './version-preparation.ts';

const MAX_BODY = 2 * 1024 * 1024;

/**
 * The control plane's one table of internal failures (core's failureFor). Its SDK model declares no 503, so an
 * unavailable store or database and a timeout pass through to the logged InternalServerException.
 */
const CONTROL_PLANE_FAILURES: FailureTable<ControlPlaneError> = {
  bodyTooLarge: () => new ControlPlaneError('ValidationException', `Request body exceeds ${MAX_BODY} bytes`, { reason: 'CannotParse' }),
  jsonTooDeep: (error) => new ControlPlaneError('ValidationException', error.message, { reason: 'CannotParse' }),
};

/** The status of gateways created here when this process runs no gateway component (e.g. `gatehouse identity`). */
export const NO_GATEWAY_COMPONENT =
  'Stored, but not served by this instance: it runs no gateway component. Run gatehouse up on this data dir to serve it.';

export interface ControlPlaneDeps {
  /** Admin access keys (identity's); temporary sandbox keys are not taken here. */
  lookupAccessKey(accessKeyId: string): Promise<SigV4Key | undefined>;
  /** The MCP URL a declared gateway serves at. */
  gatewayUrl?(name: string): string | undefined;
  /**
   * Told the workload identities created through the API, at start and after each change, so
   * `GetWorkloadAccessToken*` and the runtime serve them on this instance (others learn them at their next start).
   */
  onWorkloadIdentities?(workloads: readonly WorkloadAnnouncement[]): void;
  /** The runtime component, when this process serves runtimes: runtimes created with an agent URL are served at once. */
  runtimes?: RuntimeHost;
  /**
   * The sandbox S3, when it runs in this process: `codeConfiguration` zips are read from it, unpacked and run.
   * Without it such versions are stored and fail, saying why.
   */
  codeSource?: CodeSource;
  /** The node that runs `NODE_*` code zips; default this process's. */
  nodePath?: string;
  /** Starts an unpacked zip as a session would (isolated where the host allows; false: not available) to see it answer /ping. */
  probeAgent?: CodeProbe;
  /** The gateway component, when this process serves gateways: gateways created with a JWT authorizer are served at once. */
  gateways?: GatewayHost;
  /** How often to look for other instances' changes to the same data dir; default 2000 ms. */
  pollIntervalMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface ControlPlaneService extends HttpComponent {
  /** The resource store (tests and admin verbs read it; it never hands out secrets in a response). */
  readonly store: ResourceStore;
  /** OAuth2 / API-key credential providers and workload return URLs created here, for the token vault. */
  readonly credentialProviders: CredentialProviderSource;
}

/** Operations that add or remove workload identities (a runtime brings its own). */
const WORKLOAD_CHANGES: ReadonlySet<string> = new Set(['CreateWorkloadIdentity', 'DeleteWorkloadIdentity']);
/** Operations after which the runtime component must follow what the store says of that runtime. */
const RUNTIME_CHANGES: ReadonlySet<string> = new Set([
  'CreateAgentRuntime', 'UpdateAgentRuntime', 'DeleteAgentRuntime', 'CreateAgentRuntimeEndpoint', 'UpdateAgentRuntimeEndpoint', 'DeleteAgentRuntimeEndpoint',
]);

/** Operations after which the gateway component must follow what the store says of that gateway. */
const GATEWAY_CHANGES: ReadonlySet<string> = new Set([
  'CreateGateway', 'UpdateGateway', 'DeleteGateway', 'CreateGatewayTarget', 'UpdateGatewayTarget', 'DeleteGatewayTarget', 'SynchronizeGatewayTargets',
]);

const operations: Readonly<Record<string, Operation>> = {
  ...runtimeOperations,
  ...gatewayOperations,
  ...identityOperations(targetUsingProvider),
};

/** What every call on this control plane works with. */
interface ControlPlaneSurface {
  readonly context: ControlPlaneContext;
  readonly sigV4: SigV4Verifier;
  readonly logger: Logger;
  readonly rateLimiter: CallerRateLimiter;
  readonly clientTokens: ClientTokens;
  readonly credentialProviders: ControlPlaneCredentialProviders;
  readonly following: ChangeFollowing;
  readonly versions: VersionPreparation;
}

/** One HTTP call matched to an operation. */
interface ControlPlaneCall {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly operationName: string;
  readonly rawParams: Readonly<Record<string, string>>;
  readonly url: URL;
}

/**
 * The AgentCore control plane (`bedrock-agentcore-control`) on the shared port: every call SigV4-signed
 * (service `bedrock-agentcore`) with a key allowed `bedrock-agentcore:{Operation}`; resources kept in
 * `control-plane.db`, secrets sealed under the store key.
 */
export async function createControlPlane(platform: Platform, deps: ControlPlaneDeps): Promise<ControlPlaneService> {
  const { config, logger } = platform;
  const store = await ResourceStore.open({ dataDir: platform.dataDir, database: config.database, sealingKey: loadSealingKey(platform.dataDir, deps.env) });
  const sigV4 = createSigV4Verifier({ service: 'bedrock-agentcore', region: config.region, lookupKey: deps.lookupAccessKey, clock: platform.clock });
  const context: ControlPlaneContext = {
    store,
    region: config.region,
    accountId: config.accountId,
    now: () => new Date(platform.clock()),
    startedAt: new Date(platform.clock()),
    declaredRuntimes: config.runtimes ?? [],
    declaredGateways: config.gateways ?? [],
    gatewayUrl: deps.gatewayUrl ?? (() => undefined),
    codeHome: deps.codeSource ? { dataDir: platform.dataDir, nodePath: deps.nodePath ?? process.execPath } : undefined,
    baseUrl: platform.baseUrl,
    gatewayRefusal: (id) => (following.gateways ? following.gateways.refusal(id) : NO_GATEWAY_COMPONENT),
    commandRoots: commandRoots(config.controlPlane.commandRoots),
    functions: config.controlPlane.functions,
    quotas: config.controlPlane.quotas,
  };
  const rateLimiter = new CallerRateLimiter({ ratePerSecond: config.controlPlane.requestsPerSecondPerCaller, burst: config.controlPlane.burstPerCaller, clock: platform.clock });
  const clientTokens = new ClientTokens(store, platform.clock);
  await clientTokens.forgetExpired();
  const credentialProviders = controlPlaneCredentialProviders(store);
  await credentialProviders.refresh();
  const versions = new VersionPreparation({
    context, dataDir: platform.dataDir, codeSource: deps.codeSource, probeAgent: deps.probeAgent, startTimeoutMs: config.controlPlane.startTimeoutSeconds * 1000,
  });
  // Operations read gatewayRefusal only once serving: `following` exists by then.
  const following = new ChangeFollowing({
    context, credentialProviders, logger, runtimes: deps.runtimes, gateways: deps.gateways,
    ...(deps.onWorkloadIdentities ? { onWorkloadIdentities: (workloads: readonly WorkloadAnnouncement[]) => deps.onWorkloadIdentities?.(workloads) } : {}),
  });
  await following.followAll();
  await following.startPolling(deps.pollIntervalMs ?? 2000);
  const surface: ControlPlaneSurface = { context, sigV4, logger, rateLimiter, clientTokens, credentialProviders, following, versions };

  return {
    name: 'control-plane',
    store,
    credentialProviders,
    handle(request, response, url) {
      const route = matchRoute(request.method ?? 'GET', url.pathname);
      if (!route) return false;
      return serve(surface, { request, response, operationName: route.operation, rawParams: route.rawParams, url }).then(() => true);
    },
    async close() {
      following.stopPolling();
      await store.close();
    },
  };
}

/** One call, in order: body → SigV4 → IAM action → rate → decode → clientToken replay or run → answer. */
async function serve(surface: ControlPlaneSurface, call: ControlPlaneCall): Promise<void> {
  const { logger, rateLimiter, clientTokens } = surface;
  const { request, response, operationName, rawParams, url } = call;
  let caller: string | undefined;
  try {
    const body = await readBodyFor(request, MAX_BODY, CONTROL_PLANE_FAILURES);
    const principal = await authenticate(surface.sigV4, request, body);
    caller = principal.arn ?? principal.subject;
    authorize(principal, operationName);
    rateLimiter.take(caller);
    const operation = operations[operationName];
    if (!operation) throw new ControlPlaneError('InternalServerException', `${operationName} is not implemented`);
    const params = decodeParams(rawParams);
    const input = parseBody(body);
    // A clientToken (Create/Update: in the body; Delete: in the query): the same token and input answer the first call's response again.
    const token = clientToken(operationName, input, url.searchParams);
    const remembered = token === undefined ? undefined : { key: ClientTokens.key(operationName, caller, token), fingerprint: ClientTokens.fingerprint(params, input) };
    const replayed = remembered && (await clientTokens.replay(remembered.key, remembered.fingerprint));
    const result = replayed ?? (await run(surface, { operationName, operation, params, query: url.searchParams, input }));
    logger.info({ operation: operationName, caller, status: result.status, ...(replayed ? { replayed: true } : {}) }, 'control plane');
    if (remembered && !replayed) await clientTokens.remember(remembered.key, remembered.fingerprint, result);
    if (result.body === undefined) response.writeHead(result.status).end();
    else sendJson(response, result.status, result.body);
  } catch (error) {
    if (error instanceof ControlPlaneError && error.expose) {
      logger.info({ operation: operationName, caller, code: error.code, reason: error.message }, 'control plane refused');
      sendWire(response, error.toResponse());
      return;
    }
    logger.error({ err: error, operation: operationName }, 'control plane operation failed');
    sendWire(response, new ControlPlaneError('InternalServerException', 'Internal error').toResponse());
  }
}

interface OperationCall {
  readonly operationName: string;
  readonly operation: Operation;
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  readonly input: Record<string, unknown>;
}

/** One operation, its quota and conflicts checked first, then applied: served, prepared, followed. */
async function run({ context, credentialProviders, following, versions }: ControlPlaneSurface, call: OperationCall): Promise<OperationResult> {
  const { operationName, operation, params, query } = call;
  if (operationName === 'UpdateAgentRuntime' || operationName === 'DeleteAgentRuntime') await versions.refuseWhilePreparing(params.agentRuntimeId ?? '');
  await checkQuota(context.store, context.quotas, operationName, params);
  let result = await operation(context, { params, query, body: call.input });
  if (!/^(Get|List)/.test(operationName)) await credentialProviders.refresh();
  if (WORKLOAD_CHANGES.has(operationName)) await following.announceWorkloads();
  if (operationName === 'CreateAgentRuntime' || operationName === 'UpdateAgentRuntime') await versions.prepare(result.body);
  if (RUNTIME_CHANGES.has(operationName)) await following.followRuntime(result.body, params);
  if (operationName === 'DeleteAgentRuntime') await versions.removeCode(result.body, query.get('version'));
  if (GATEWAY_CHANGES.has(operationName)) result = await following.followGateway(operationName, result, params);
  return result;
}

async function authenticate(sigV4: SigV4Verifier, request: IncomingMessage, body: Buffer): Promise<Principal> {
  try {
    return await sigV4.verify({ method: request.method ?? 'GET', rawPath: request.url ?? '/', headers: request.headers, body });
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    if (error.code === 'missing') throw new ControlPlaneError('AccessDeniedException', 'Missing Authentication Token: sign the request with AWS SigV4 (service bedrock-agentcore) using an admin access key.');
    if (error.code === 'unknown_access_key') throw new ControlPlaneError('AccessDeniedException', 'The security token included in the request is invalid.');
    throw new ControlPlaneError('AccessDeniedException', error.message);
  }
}

/** The idempotency token of a changing call, if it carries one. */
function clientToken(operation: string, input: Record<string, unknown>, query: URLSearchParams): string | undefined {
  if (/^(Create|Update)/.test(operation)) return typeof input.clientToken === 'string' ? input.clientToken : undefined;
  if (operation.startsWith('Delete')) return query.get('clientToken') ?? undefined;
  return undefined;
}

function authorize(principal: Principal, operation: string): void {
  const action = `bedrock-agentcore:${operation}`;
  if (!principal.permissions.some((permission) => permission === '*' || permission === 'bedrock-agentcore:*' || permission === action)) {
    throw new ControlPlaneError('AccessDeniedException', `${principal.arn ?? principal.subject} is not authorized to perform: ${action}`);
  }
}

function parseBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = parseJson(body);
  } catch (error) {
    throw failureFor(CONTROL_PLANE_FAILURES, error) ?? new ControlPlaneError('ValidationException', 'Request body is not valid JSON', { reason: 'CannotParse' });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ControlPlaneError('ValidationException', 'Request body must be a JSON object', { reason: 'CannotParse' });
  return value as Record<string, unknown>;
}

/** Path parameters are decoded exactly once; a `%` left afterwards (double encoding) is refused. */
function decodeParams(raw: Readonly<Record<string, string>>): Record<string, string> {
  const decoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    let plain: string;
    try {
      plain = decodeURIComponent(value);
    } catch {
      throw new ControlPlaneError('ValidationException', `${name} in the path is not valid percent-encoding`, { reason: 'CannotParse' });
    }
    if (plain.includes('%')) throw new ControlPlaneError('ValidationException', `${name} in the path is percent-encoded more than once; encode it once`, { reason: 'FieldValidationFailed', fieldList: [{ name, message: 'encoded more than once' }] });
    decoded[name] = plain;
  }
  return decoded;
}
