import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { CredentialProviderSource } from '@gatehouse/core';
import { controlPlaneCredentialProviders } from './credential-provider-source.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuthError, createSigV4Verifier, type Principal, type SigV4Key } from '@gatehouse/auth';
import { loadSealingKey } from '@gatehouse/cluster';
import { failureFor, parseJson, readBodyFor, sendJson, sendWire, type FailureTable, type HttpComponent, type Platform } from '@gatehouse/core';
import { ControlPlaneError } from './control-plane-error.ts';
import type { ControlPlaneContext, Operation, OperationResult } from './control-plane-context.ts';
import { matchRoute } from './control-plane-routes.ts';
import { ResourceStore } from './resource-store.ts';
import { CodeArtifactError, prepareCode, probeCode, runtimeCodeDirectory, type CodeConfiguration, type CodeProbe, type CodeSource } from './code-artifact.ts';
import { commandRoots, type CommandAgent } from './command-agent.ts';
import { CallerRateLimiter, checkQuota, ClientTokens } from './request-guards.ts';
import { RUNTIME_NOT_SERVED, runtimeOperations } from './runtime-operations.ts';
import { gatewayOperations, targetUsingProvider } from './gateway-operations.ts';
import { identityOperations } from './identity-operations.ts';
import { GatewayFollower, type GatewayHost } from './gateway-serving.ts';
import { RuntimeFollower, workloadAnnouncements, type RuntimeHost, type WorkloadAnnouncement } from './runtime-serving.ts';

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
    gatewayRefusal: (id) => (gatewayFollower ? gatewayFollower.refusal(id) : NO_GATEWAY_COMPONENT),
    commandRoots: commandRoots(config.controlPlane.commandRoots),
    functions: config.controlPlane.functions,
    quotas: config.controlPlane.quotas,
  };
  const startTimeoutMs = config.controlPlane.startTimeoutSeconds * 1000;
  const rateLimiter = new CallerRateLimiter({ ratePerSecond: config.controlPlane.requestsPerSecondPerCaller, burst: config.controlPlane.burstPerCaller, clock: platform.clock });
  const clientTokens = new ClientTokens(store, platform.clock);
  await clientTokens.forgetExpired();
  const credentialProviders = controlPlaneCredentialProviders(store);
  await credentialProviders.refresh();
  /** Runtimes with a version being started by this instance: updating or deleting them meanwhile is a ConflictException. */
  const preparing = new Set<string>();
  // Identity rebuilds its workload authorizers on each announcement: announce only a changed set.
  let announced: string | undefined;
  const announceWorkloads = async (): Promise<void> => {
    const workloads = await workloadAnnouncements(context);
    const text = JSON.stringify(workloads);
    if (text === announced) return;
    announced = text;
    deps.onWorkloadIdentities?.(workloads);
  };
  await announceWorkloads();
  const follower = deps.runtimes && new RuntimeFollower(context, deps.runtimes);
  await follower?.followAll();
  const gatewayFollower: GatewayFollower | undefined = deps.gateways && new GatewayFollower(context, deps.gateways);
  await gatewayFollower?.followAll();
  // Other instances on the same database (or data dir) write too: follow their changes.
  let seenVersion = await store.dataVersion();
  let polling = false;
  const poll = setInterval(() => {
    if (polling) return;
    polling = true;
    (async () => {
      const version = await store.dataVersion();
      if (version === seenVersion) return;
      seenVersion = version;
      await credentialProviders.refresh();
      await announceWorkloads();
      await follower?.followAll();
      await gatewayFollower?.followAll();
    })()
      .catch((error: unknown) => logger.error({ err: error }, 'could not follow another instance’s control-plane change'))
      .finally(() => {
        polling = false;
      });
  }, deps.pollIntervalMs ?? 2000);
  poll.unref();

  /** After a change to a runtime or its endpoints: serve it as stored now (or stop serving it). */
  async function followRuntime(result: unknown, params: Readonly<Record<string, string>>): Promise<void> {
    await announceWorkloads();
    if (!follower) return;
    const named = (result as { agentRuntimeId?: unknown } | undefined)?.agentRuntimeId ?? params.agentRuntimeId;
    if (typeof named !== 'string') return;
    const id = (await store.byName<{ agentRuntimeId: string }>('runtime', named))?.body.agentRuntimeId ?? named;
    try {
      await follower.follow(id);
    } catch (error) {
      logger.error({ err: error, runtime: id }, 'the runtime component could not follow a control-plane change');
    }
  }

  /**
   * A command or code-zip version written CREATING/UPDATING by the call: start it (a zip fetched, checked and
   * unpacked first) until it answers /ping, then store it READY (marked prepared) or failed with the reason.
   * Nothing is left on disk for a failed version.
   */
  async function prepareVersion(result: unknown): Promise<void> {
    const answer = result as { agentRuntimeId?: unknown; agentRuntimeVersion?: unknown; status?: unknown } | undefined;
    if (!answer || (answer.status !== 'CREATING' && answer.status !== 'UPDATING')) return;
    const runtimeId = String(answer.agentRuntimeId);
    const versionNumber = String(answer.agentRuntimeVersion);
    const key = `${runtimeId}:${versionNumber}`;
    const stored = await store.get<Record<string, unknown>>('runtime-version', key);
    if (!stored) return;
    const version = stored.body;
    let next: Record<string, unknown>;
    preparing.add(runtimeId);
    try {
      next = { ...version, status: 'READY', gatehouseCode: await startVersion(runtimeId, versionNumber, version) };
    } catch (error) {
      if (!(error instanceof CodeArtifactError)) throw error;
      next = { ...version, status: answer.status === 'CREATING' ? 'CREATE_FAILED' : 'UPDATE_FAILED', failureReason: error.message };
    } finally {
      preparing.delete(runtimeId);
    }
    // Deleted meanwhile: drop what was unpacked for it.
    if (!await store.get('runtime', runtimeId)) {
      await rm(runtimeCodeDirectory(platform.dataDir, runtimeId), { recursive: true, force: true });
      return;
    }
    await store.update('runtime-version', key, next);
    (answer as { status: unknown }).status = next.status;
  }

  /** Runs a version's agent once until it answers /ping (a zip is unpacked first); what to mark it with. */
  async function startVersion(runtimeId: string, versionNumber: string, version: Record<string, unknown>): Promise<{ probed: true } | { unpacked: true }> {
    const agent = version.gatehouseAgent as CommandAgent | undefined;
    if (agent?.command) {
      const program = agent.command[0] !== undefined && path.isAbsolute(agent.command[0]) ? agent.command[0] : agent.command[1];
      if (program !== undefined && path.isAbsolute(program) && !existsSync(program)) throw new CodeArtifactError(`command not found: ${path.basename(program)} does not exist under its command root; create it, or update the runtime with the right path`);
      await probeCode(agent.command, agent.cwd ?? process.cwd(), { probeAgent: deps.probeAgent, timeoutMs: startTimeoutMs });
      return { probed: true };
    }
    if (!deps.codeSource) throw new CodeArtifactError(RUNTIME_NOT_SERVED);
    await prepareCode({
      source: deps.codeSource,
      dataDir: platform.dataDir,
      runtimeId,
      version: versionNumber,
      roleArn: String(version.roleArn),
      configuration: (version.agentRuntimeArtifact as { codeConfiguration: CodeConfiguration }).codeConfiguration,
      nodePath: context.codeHome!.nodePath,
      startTimeoutMs,
      probeAgent: deps.probeAgent,
    });
    return { unpacked: true };
  }

  /** After a change to a gateway or its targets: serve it as stored now (SynchronizeGatewayTargets: rebuilt, tool lists reloaded). */
  async function followGateway(operationName: string, result: unknown, params: Readonly<Record<string, string>>): Promise<void> {
    if (!gatewayFollower) return;
    const named = (result as { gatewayId?: unknown } | undefined)?.gatewayId ?? params.gatewayIdentifier;
    if (typeof named !== 'string') return;
    try {
      await gatewayFollower.follow(named, operationName === 'SynchronizeGatewayTargets');
    } catch (error) {
      logger.error({ err: error, gateway: named }, 'the gateway component could not follow a control-plane change');
    }
  }

  /** A created or updated gateway or target as it is now served: a build the gateway component refused shows at once. */
  async function afterFollowing(operationName: string, result: OperationResult, params: Readonly<Record<string, string>>): Promise<OperationResult> {
    const body = result.body as { gatewayId?: string; targetId?: string } | undefined;
    const reread = async (operation: Operation, readParams: Record<string, string>): Promise<OperationResult> => ({
      status: result.status, body: (await operation(context, { params: readParams, query: new URLSearchParams(), body: {} })).body,
    });
    if ((operationName === 'CreateGateway' || operationName === 'UpdateGateway') && body?.gatewayId) return reread(gatewayOperations.GetGateway, { gatewayIdentifier: body.gatewayId });
    if ((operationName === 'CreateGatewayTarget' || operationName === 'UpdateGatewayTarget') && body?.targetId && params.gatewayIdentifier) {
      return reread(gatewayOperations.GetGatewayTarget, { gatewayIdentifier: params.gatewayIdentifier, targetId: body.targetId });
    }
    return result;
  }

  async function serve(request: IncomingMessage, response: ServerResponse, operationName: string, rawParams: Readonly<Record<string, string>>, url: URL): Promise<void> {
    let caller: string | undefined;
    try {
      const body = await readBodyFor(request, MAX_BODY, CONTROL_PLANE_FAILURES);
      const principal = await authenticate(request, body);
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
      const result = replayed ?? (await run(operationName, operation, params, { query: url.searchParams, input }));
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

  /** A runtime (by id or name) whose new version this instance is starting cannot be updated or deleted meanwhile. */
  async function refuseWhilePreparing(named: string): Promise<void> {
    const id = (await store.byName<{ agentRuntimeId: string }>('runtime', named))?.body.agentRuntimeId ?? named;
    if (preparing.has(id)) throw new ControlPlaneError('ConflictException', `Agent runtime ${id} has a version being started (CREATING/UPDATING); retry once GetAgentRuntime shows another status`);
  }

  /** One operation, its quota and conflicts checked first, then applied: served, prepared, followed. */
  async function run(operationName: string, operation: Operation, params: Record<string, string>, request: { query: URLSearchParams; input: Record<string, unknown> }): Promise<OperationResult> {
    if (operationName === 'UpdateAgentRuntime' || operationName === 'DeleteAgentRuntime') await refuseWhilePreparing(params.agentRuntimeId ?? '');
    await checkQuota(store, context.quotas, operationName, params);
    let result = await operation(context, { params, query: request.query, body: request.input });
    if (!/^(Get|List)/.test(operationName)) await credentialProviders.refresh();
    if (WORKLOAD_CHANGES.has(operationName)) await announceWorkloads();
    if (operationName === 'CreateAgentRuntime' || operationName === 'UpdateAgentRuntime') await prepareVersion(result.body);
    if (RUNTIME_CHANGES.has(operationName)) await followRuntime(result.body, params);
    if (operationName === 'DeleteAgentRuntime') await removeCode(result.body, request.query.get('version'));
    if (GATEWAY_CHANGES.has(operationName)) {
      await followGateway(operationName, result.body, params);
      result = await afterFollowing(operationName, result, params);
    }
    return result;
  }

  /** A deleted runtime's unpacked versions go with it (its sessions were ended by followRuntime), a deleted version's its own. */
  async function removeCode(result: unknown, version: string | null): Promise<void> {
    const id = (result as { agentRuntimeId?: unknown } | undefined)?.agentRuntimeId;
    if (typeof id !== 'string') return;
    if (!await store.get('runtime', id)) await rm(runtimeCodeDirectory(platform.dataDir, id), { recursive: true, force: true });
    // One version deleted (?version=, checked to be a number): its unpacked zip goes too.
    else if (version !== null && !await store.get('runtime-version', `${id}:${version}`)) await rm(path.join(runtimeCodeDirectory(platform.dataDir, id), version), { recursive: true, force: true });
  }

  async function authenticate(request: IncomingMessage, body: Buffer): Promise<Principal> {
    try {
      return await sigV4.verify({ method: request.method ?? 'GET', rawPath: request.url ?? '/', headers: request.headers, body });
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      if (error.code === 'missing') throw new ControlPlaneError('AccessDeniedException', 'Missing Authentication Token: sign the request with AWS SigV4 (service bedrock-agentcore) using an admin access key.');
      if (error.code === 'unknown_access_key') throw new ControlPlaneError('AccessDeniedException', 'The security token included in the request is invalid.');
      throw new ControlPlaneError('AccessDeniedException', error.message);
    }
  }

  return {
    name: 'control-plane',
    store,
    credentialProviders,
    handle(request, response, url) {
      const route = matchRoute(request.method ?? 'GET', url.pathname);
      if (!route) return false;
      return serve(request, response, route.operation, route.rawParams, url).then(() => true);
    },
    async close() {
      clearInterval(poll);
      await store.close();
    },
  };
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
