import type { RuntimeConfig } from '@gatehouse/core';
import { ControlPlaneError, declaredInConfig, fieldError, notFound } from './control-plane-error.ts';
import { arn, idSuffix, type ControlPlaneContext, type Operation, type OperationRequest, type OperationResult } from './control-plane-context.ts';
import { authorizerConfiguration, clientToken, declaredAuthorizer, description, roleArn } from './aws-fields.ts';
import {
  checkString,
  nested,
  oneMember,
  optionalInteger,
  optionalObject,
  optionalStringList,
  optionalStringMap,
  optionalString,
  requiredEnum,
  requiredObject,
  requiredString,
  type Input,
} from './input-fields.ts';
import { paginate } from './paginate.ts';
import { createWorkloadIdentityRecord, workloadIdentityArn } from './identity-operations.ts';
import { liveVersion, servedConfig } from './runtime-serving.ts';
import { checkCommand } from './command-agent.ts';
import { isHttpsOrLoopbackUrl } from '@gatehouse/core';

const NAME = { pattern: /^[a-zA-Z][a-zA-Z0-9_]{0,47}$/, patternHint: 'start with a letter and hold only letters, digits and _ (at most 48)', max: 48 };
const RUNTIME_ID = /^[a-zA-Z][a-zA-Z0-9_]{0,99}-[a-zA-Z0-9]{10}$/;
const VERSION = { pattern: /^[1-9][0-9]{0,4}$/, patternHint: 'be a version number (1, 2, …)', max: 5 };
const DEFAULT_ENDPOINT = 'DEFAULT';

/**
 * Why a runtime created through this API does not answer invocations yet: the runtime component serves
 * the runtimes of gatehouse.yaml only. Stated as the failure reason rather than a READY that would lie.
 */
export const RUNTIME_NOT_SERVED =
  'Stored, but not served: code zips are read from the sandbox S3, which does not run in this Gatehouse (tools.sandbox.enabled, gatehouse up). Give the agent as a URL in the Gatehouse field gatehouseAgent: {"url": …}, or declare the runtime in gatehouse.yaml (runtimes:).';
const NO_CONTAINER_ENGINE = 'containerConfiguration needs a container engine, and this Gatehouse runs none; use a local command in gatehouse.yaml (runtimes: agent: command:) instead.';

type Status = 'CREATING' | 'CREATE_FAILED' | 'UPDATING' | 'UPDATE_FAILED' | 'READY' | 'DELETING';

interface RuntimeRecord {
  readonly agentRuntimeId: string;
  readonly agentRuntimeName: string;
  readonly agentRuntimeArn: string;
  readonly latestVersion: string;
  readonly createdAt: string;
  readonly workloadIdentityName: string;
}

/** One immutable version: the whole GetAgentRuntime description as it was created. */
type VersionRecord = Record<string, unknown> & { readonly agentRuntimeVersion: string; readonly status: Status; readonly lastUpdatedAt: string; readonly description?: string };

interface EndpointRecord {
  readonly id: string;
  readonly name: string;
  /** Undefined: follows the latest version (DEFAULT). */
  readonly targetVersion?: string;
  readonly description?: string;
  readonly createdAt: string;
  readonly lastUpdatedAt: string;
}

type FoundRuntime = { readonly declared: RuntimeConfig } | { readonly stored: RuntimeRecord };

function runtimeArn(context: ControlPlaneContext, id: string): string {
  return arn(context, `runtime/${id}`);
}

function endpointArn(context: ControlPlaneContext, runtimeId: string, name: string): string {
  return arn(context, `runtime/${runtimeId}/runtime-endpoint/${name}`);
}

/** By id, or by name (declared runtimes have their name as id, as their data-plane ARN `runtime/{name}` says). */
async function findRuntime(context: ControlPlaneContext, id: string): Promise<FoundRuntime> {
  const declared = context.declaredRuntimes.find((runtime) => runtime.agentRuntimeName === id);
  if (declared) return { declared };
  const stored = (await context.store.get<RuntimeRecord>('runtime', id)) ?? (await context.store.byName<RuntimeRecord>('runtime', id));
  if (stored) return { stored: stored.body };
  if (!RUNTIME_ID.test(id) && !NAME.pattern.test(id)) throw fieldError('agentRuntimeId', 'must be a runtime id (name-xxxxxxxxxx) or a runtime name');
  throw notFound('Agent runtime', id);
}

async function storedRuntime(context: ControlPlaneContext, id: string, action: string): Promise<RuntimeRecord> {
  const found = await findRuntime(context, id);
  if ('declared' in found) throw declaredInConfig('agent runtime', found.declared.agentRuntimeName, action);
  return found.stored;
}

function declaredDescription(context: ControlPlaneContext, runtime: RuntimeConfig): Record<string, unknown> {
  const at = context.startedAt.toISOString();
  return {
    agentRuntimeArn: runtimeArn(context, runtime.agentRuntimeName),
    agentRuntimeName: runtime.agentRuntimeName,
    agentRuntimeId: runtime.agentRuntimeName,
    agentRuntimeVersion: '1',
    createdAt: at,
    lastUpdatedAt: at,
    roleArn: `arn:aws:iam::${context.accountId}:role/gatehouse-declared`,
    networkConfiguration: { networkMode: 'PUBLIC' },
    status: 'READY',
    lifecycleConfiguration: { ...runtime.lifecycleConfiguration },
    ...(runtime.description ? { description: runtime.description } : {}),
    workloadIdentityDetails: { workloadIdentityArn: workloadIdentityArn(context, runtime.agentRuntimeName) },
    protocolConfiguration: { ...runtime.protocolConfiguration },
    ...declaredAuthorizer(runtime.authorizerConfiguration),
    ...(runtime.requestHeaderConfiguration ? { requestHeaderConfiguration: runtime.requestHeaderConfiguration } : {}),
  };
}

/** The fields CreateAgentRuntime and UpdateAgentRuntime share, checked against AWS's rules. */
function runtimeSpec(context: ControlPlaneContext, body: Input): Record<string, unknown> {
  const artifact = agentRuntimeArtifact(body);
  const spec: Record<string, unknown> = {
    agentRuntimeArtifact: artifact,
    roleArn: roleArn(body),
    networkConfiguration: networkConfiguration(body),
    lifecycleConfiguration: lifecycleConfiguration(body),
  };
  const text = description(body, 4096);
  if (text !== undefined) spec.description = text;
  const authorizer = authorizerConfiguration(body);
  if (authorizer) spec.authorizerConfiguration = authorizer;
  const headers = optionalObject(body, 'requestHeaderConfiguration');
  if (headers) {
    const allowlist = nested('requestHeaderConfiguration', () => optionalStringList(headers, 'requestHeaderAllowlist', { max: 256, maxItems: 20 }));
    if (allowlist) spec.requestHeaderConfiguration = { requestHeaderAllowlist: allowlist };
  }
  const protocol = optionalObject(body, 'protocolConfiguration');
  if (protocol) spec.protocolConfiguration = { serverProtocol: nested('protocolConfiguration', () => requiredEnum(protocol, 'serverProtocol', ['MCP', 'HTTP', 'A2A', 'AGUI'])) };
  const environment = optionalStringMap(body, 'environmentVariables', 50);
  if (environment) spec.environmentVariables = environment;
  const agent = gatehouseAgent(body, context.commandRoots);
  if (agent) spec.gatehouseAgent = agent;
  if (agent?.command && environment) checkCommandEnvironment(environment);
  clientToken(body);
  return spec;
}

/**
 * Gatehouse's addition: `gatehouseAgent: {"url": "http://127.0.0.1:9000"}`, an agent already running that serves
 * `/invocations` and `/ping`; or `{"command": [...], "cwd"?: ...}`, a program under one of the directories
 * gatehouse.yaml's `controlPlane.commandRoots` lists (none by default: any admin key could otherwise run
 * programs on this host), started per session like a gatehouse.yaml command agent.
 */
function gatehouseAgent(body: Input, roots: readonly string[]): Input | undefined {
  const value = optionalObject(body, 'gatehouseAgent');
  if (!value) return undefined;
  const unknown = Object.keys(value).find((key) => !['url', 'command', 'cwd'].includes(key));
  if (unknown) throw fieldError(`gatehouseAgent.${unknown}`, 'is not a field of gatehouseAgent (url, or command and cwd)');
  if (value.command !== undefined) {
    if (value.url !== undefined) throw fieldError('gatehouseAgent', 'give url or command, not both');
    return { ...checkCommand(value.command, value.cwd, roots) };
  }
  if (value.cwd !== undefined) throw fieldError('gatehouseAgent.cwd', 'goes with command only (an agent given by url runs elsewhere)');
  const url = nested('gatehouseAgent', () => requiredString(value, 'url', { max: 2048 }));
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw fieldError('gatehouseAgent.url', 'must be an absolute http(s) URL of a running agent');
  }
  // Callers' workload access tokens go to the agent: https, or plain http only on this host.
  if (!isHttpsOrLoopbackUrl(parsed.href)) throw fieldError('gatehouseAgent.url', 'must use https (plain http only for localhost / 127.0.0.1)');
  return { url };
}

/** Variables that change which program or code an interpreter runs: they would step outside controlPlane.commandRoots. */
const LOADER_VARIABLES = /^(PATH|HOME|ENV|BASH_ENV|IFS|SHELLOPTS|BASHOPTS|PS4|GCONV_PATH)$|^(LD_|DYLD_|NODE_|PYTHON|PERL|RUBY|BASH_FUNC_)/i;

function checkCommandEnvironment(environment: Readonly<Record<string, string>>): void {
  const name = Object.keys(environment).find((key) => LOADER_VARIABLES.test(key));
  if (name) throw fieldError(`environmentVariables.${name}`, 'cannot be set for a gatehouseAgent.command agent: it changes which program or code runs, outside controlPlane.commandRoots; configure that in the agent itself');
}

function agentRuntimeArtifact(body: Input): Input {
  const value = requiredObject(body, 'agentRuntimeArtifact');
  const member = oneMember(value, 'agentRuntimeArtifact', ['containerConfiguration', 'codeConfiguration']);
  const inner = requiredObject(value, member);
  if (member === 'containerConfiguration') {
    const containerUri = nested(`agentRuntimeArtifact.${member}`, () =>
      requiredString(inner, 'containerUri', { max: 1024, pattern: /^(([0-9]{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?|public\.ecr\.aws)\/[a-z0-9._/-]+(:[^:@]{1,300})?(@.+)?$/, patternHint: 'be an ECR image URI (123456789012.dkr.ecr.region.amazonaws.com/repository:tag)' }),
    );
    return { containerConfiguration: { containerUri } };
  }
  return nested(`agentRuntimeArtifact.${member}`, () => {
    const code = requiredObject(inner, 'code');
    const s3 = nested('code', () => {
      oneMember(code, 'code', ['s3']);
      return nested('s3', () => {
        const location = requiredObject(code, 's3');
        const bucket = requiredString(location, 'bucket', { pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, patternHint: 'be an S3 bucket name', max: 63 });
        const prefix = requiredString(location, 'prefix', { max: 1024 });
        const versionId = optionalString(location, 'versionId', { min: 3, max: 1024 });
        return { bucket, prefix, ...(versionId ? { versionId } : {}) };
      });
    });
    const runtime = requiredEnum(inner, 'runtime', ['PYTHON_3_10', 'PYTHON_3_11', 'PYTHON_3_12', 'PYTHON_3_13', 'PYTHON_3_14', 'NODE_22']);
    const entryPoint = optionalStringList(inner, 'entryPoint', { max: 128, maxItems: 2 });
    if (!entryPoint || entryPoint.length === 0) throw fieldError('entryPoint', 'is required: the file to run, e.g. ["main.py"]');
    return { codeConfiguration: { code: { s3 }, runtime, entryPoint } };
  });
}

function networkConfiguration(body: Input): Input {
  const value = requiredObject(body, 'networkConfiguration');
  const networkMode = nested('networkConfiguration', () => requiredEnum(value, 'networkMode', ['PUBLIC', 'VPC']));
  if (networkMode === 'VPC') throw fieldError('networkConfiguration.networkMode', 'VPC is not available in Gatehouse (agents run on this host); use PUBLIC');
  return { networkMode };
}

function lifecycleConfiguration(body: Input): Input {
  const value = optionalObject(body, 'lifecycleConfiguration') ?? {};
  return nested('lifecycleConfiguration', () => {
    const idle = optionalInteger(value, 'idleRuntimeSessionTimeout', 60, 28_800) ?? 900;
    const max = optionalInteger(value, 'maxLifetime', 60, 28_800) ?? 28_800;
    if (idle > max) throw fieldError('idleRuntimeSessionTimeout', `must not exceed maxLifetime (${max})`);
    return { idleRuntimeSessionTimeout: idle, maxLifetime: max };
  });
}

/** READY when Gatehouse can run the version's agent; otherwise failed, with the reason. */
function withStatus(context: ControlPlaneContext, version: Record<string, unknown> & { agentRuntimeVersion: string; lastUpdatedAt: string }, creating: boolean): VersionRecord {
  if (servedConfig(version, context)) return { ...version, status: 'READY' };
  const artifact = version.agentRuntimeArtifact as Input;
  // Started (a command) or fetched, unpacked and started (a zip) after the row is written (create-control-plane's prepareVersion).
  if ((version.gatehouseAgent as Input | undefined)?.command) return { ...version, status: creating ? 'CREATING' : 'UPDATING' };
  if (artifact.codeConfiguration && context.codeHome) return { ...version, status: creating ? 'CREATING' : 'UPDATING' };
  return { ...version, status: creating ? 'CREATE_FAILED' : 'UPDATE_FAILED', failureReason: artifact.containerConfiguration ? NO_CONTAINER_ENGINE : RUNTIME_NOT_SERVED };
}

function versionKey(runtimeId: string, version: string): string {
  return `${runtimeId}:${version}`;
}

async function latest(context: ControlPlaneContext, record: RuntimeRecord): Promise<VersionRecord> {
  const version = await context.store.get<VersionRecord>('runtime-version', versionKey(record.agentRuntimeId, record.latestVersion));
  if (!version) throw new ControlPlaneError('InternalServerException', `Agent runtime ${record.agentRuntimeId} has lost its latest version`);
  return version.body;
}

const createAgentRuntime: Operation = async (context, { body }) => {
  const name = requiredString(body, 'agentRuntimeName', NAME);
  const spec = runtimeSpec(context, body);
  if (context.declaredRuntimes.some((runtime) => runtime.agentRuntimeName === name)) {
    throw new ControlPlaneError('ConflictException', `An agent runtime named ${name} is declared in gatehouse.yaml; choose another name`);
  }
  const id = `${name}-${idSuffix()}`;
  const now = context.now().toISOString();
  const record: RuntimeRecord = { agentRuntimeId: id, agentRuntimeName: name, agentRuntimeArn: runtimeArn(context, id), latestVersion: '1', createdAt: now, workloadIdentityName: id };
  const workloadIdentityDetails = { workloadIdentityArn: workloadIdentityArn(context, id) };
  const version = withStatus(context, {
    agentRuntimeArn: record.agentRuntimeArn,
    agentRuntimeName: name,
    agentRuntimeId: id,
    agentRuntimeVersion: '1',
    createdAt: now,
    lastUpdatedAt: now,
    ...spec,
    workloadIdentityDetails,
  }, true);
  await context.store.atomically(async () => {
    await context.store.insert('runtime', { id, parent: '', name, body: record });
    await context.store.insert('runtime-version', { id: versionKey(id, '1'), parent: id, name: '1', body: version });
    const endpoint: EndpointRecord = { id: `${DEFAULT_ENDPOINT}-${idSuffix()}`, name: DEFAULT_ENDPOINT, createdAt: now, lastUpdatedAt: now };
    await context.store.insert('runtime-endpoint', { id: versionKey(id, DEFAULT_ENDPOINT), parent: id, name: DEFAULT_ENDPOINT, body: endpoint });
    await createWorkloadIdentityRecord(context, id, [], id);
  });
  return { status: 202, body: { agentRuntimeArn: record.agentRuntimeArn, workloadIdentityDetails, agentRuntimeId: id, agentRuntimeVersion: '1', createdAt: now, status: version.status } };
};

const getAgentRuntime: Operation = async (context, { params, query }) => {
  const found = await findRuntime(context, params.agentRuntimeId ?? '');
  const wanted = query.get('version');
  if (wanted !== null) checkString(wanted, 'version', VERSION);
  if ('declared' in found) {
    if (wanted !== null && wanted !== '1') throw notFound('Agent runtime version', `${found.declared.agentRuntimeName} version ${wanted}`);
    return { status: 200, body: declaredDescription(context, found.declared) };
  }
  const version = await context.store.get<VersionRecord>('runtime-version', versionKey(found.stored.agentRuntimeId, wanted ?? found.stored.latestVersion));
  if (!version) throw notFound('Agent runtime version', `${found.stored.agentRuntimeId} version ${wanted ?? ''}`);
  // gatehouseCode is Gatehouse's own bookkeeping (the zip was unpacked here), not part of the description.
  const { gatehouseCode: _unpacked, ...description } = version.body;
  return { status: 200, body: description };
};

function summary(version: Record<string, unknown>): Record<string, unknown> {
  return {
    agentRuntimeArn: version.agentRuntimeArn,
    agentRuntimeId: version.agentRuntimeId,
    agentRuntimeVersion: version.agentRuntimeVersion,
    agentRuntimeName: version.agentRuntimeName,
    description: version.description ?? '',
    lastUpdatedAt: version.lastUpdatedAt,
    status: version.status,
  };
}

const listAgentRuntimes: Operation = async (context, { query }) => {
  const all = [
    ...context.declaredRuntimes.map((runtime) => summary(declaredDescription(context, runtime))),
    ...(await Promise.all((await context.store.list<RuntimeRecord>('runtime')).map(async (runtime) => summary(await latest(context, runtime.body))))),
  ];
  const page = paginate(all, query.get('maxResults') ?? undefined, query.get('nextToken') ?? undefined);
  return { status: 200, body: { agentRuntimes: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) } };
};

const listAgentRuntimeVersions: Operation = async (context, { params, query }) => {
  const found = await findRuntime(context, params.agentRuntimeId ?? '');
  const all = 'declared' in found
    ? [summary(declaredDescription(context, found.declared))]
    : (await context.store.list<VersionRecord>('runtime-version', found.stored.agentRuntimeId)).map((version) => summary(version.body)).reverse();
  const page = paginate(all, query.get('maxResults') ?? undefined, query.get('nextToken') ?? undefined);
  return { status: 200, body: { agentRuntimes: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) } };
};

const updateAgentRuntime: Operation = async (context, { params, body }) => {
  const record = await storedRuntime(context, params.agentRuntimeId ?? '', 'update');
  const spec = runtimeSpec(context, body);
  const now = context.now().toISOString();
  const next = String(Number(record.latestVersion) + 1);
  if (Number(next) > 99_999) throw new ControlPlaneError('ServiceQuotaExceededException', `Agent runtime ${record.agentRuntimeId} has reached 99999 versions; create a new runtime`);
  const previous = await latest(context, record);
  const version = withStatus(context, {
    agentRuntimeArn: record.agentRuntimeArn,
    agentRuntimeName: record.agentRuntimeName,
    agentRuntimeId: record.agentRuntimeId,
    agentRuntimeVersion: next,
    createdAt: record.createdAt,
    lastUpdatedAt: now,
    ...spec,
    workloadIdentityDetails: previous.workloadIdentityDetails,
  }, false);
  await context.store.atomically(async () => {
    await context.store.insert('runtime-version', { id: versionKey(record.agentRuntimeId, next), parent: record.agentRuntimeId, name: next, body: version });
    await context.store.update('runtime', record.agentRuntimeId, { ...record, latestVersion: next });
  });
  return {
    status: 202,
    body: {
      agentRuntimeArn: record.agentRuntimeArn,
      agentRuntimeId: record.agentRuntimeId,
      workloadIdentityDetails: version.workloadIdentityDetails,
      agentRuntimeVersion: next,
      createdAt: record.createdAt,
      lastUpdatedAt: now,
      status: version.status,
    },
  };
};

const deleteAgentRuntime: Operation = async (context, { params, query }) => {
  const record = await storedRuntime(context, params.agentRuntimeId ?? '', 'delete');
  const token = query.get('clientToken');
  if (token !== null) clientToken({ clientToken: token });
  const version = query.get('version');
  if (version !== null) return deleteVersion(context, record, checkString(version, 'agentRuntimeVersion', VERSION));
  await context.store.atomically(async () => {
    await context.store.deleteChildren('runtime-endpoint', record.agentRuntimeId);
    await context.store.deleteChildren('runtime-version', record.agentRuntimeId);
    await context.store.delete('workload-identity', record.workloadIdentityName);
    await context.store.delete('runtime', record.agentRuntimeId);
  });
  return { status: 202, body: { status: 'DELETING', agentRuntimeId: record.agentRuntimeId } };
};

/**
 * DeleteAgentRuntime with `?version=`: only that version goes. Refused while something answers from it or will:
 * the latest (DEFAULT targets it), the live one, or one an endpoint pins.
 */
async function deleteVersion(context: ControlPlaneContext, record: RuntimeRecord, version: string): Promise<OperationResult> {
  const key = versionKey(record.agentRuntimeId, version);
  if (!await context.store.get('runtime-version', key)) throw notFound('Agent runtime version', `${record.agentRuntimeId} version ${version}`);
  if (version === record.latestVersion) throw new ControlPlaneError('ConflictException', `Version ${version} is the latest of ${record.agentRuntimeId} (DEFAULT targets it); delete the runtime, or update it first`);
  if ((await liveVersion(context, record.agentRuntimeId))?.number === version) throw new ControlPlaneError('ConflictException', `Version ${version} of ${record.agentRuntimeId} is live on DEFAULT (the newer ones do not run); fix the runtime with an update first`);
  const pinning = (await context.store.list<EndpointRecord>('runtime-endpoint', record.agentRuntimeId)).find((endpoint) => endpoint.body.targetVersion === version);
  if (pinning) throw new ControlPlaneError('ConflictException', `Version ${version} of ${record.agentRuntimeId} is pinned by endpoint ${pinning.body.name}; point that endpoint at another version first`);
  await context.store.delete('runtime-version', key);
  return { status: 202, body: { status: 'DELETING', agentRuntimeId: record.agentRuntimeId } };
}

/**
 * An endpoint as AWS describes it: `targetVersion` is what it should serve, `liveVersion` what answers now — for
 * DEFAULT the newest version that runs (`live`; none when no version does), for a named endpoint its pinned one.
 */
/** The runtime an endpoint belongs to, as its view shows it. */
interface EndpointRuntime {
  readonly runtimeId: string;
  readonly runtimeArn: string;
  readonly latestVersion: string;
  /** The version the endpoint points at, when stored (a declared runtime's has none). */
  readonly version?: VersionRecord | undefined;
  readonly live?: string | undefined;
}

function endpointView(context: ControlPlaneContext, { runtimeId, runtimeArn: runtimeArnValue, latestVersion, version, live }: EndpointRuntime, endpoint: EndpointRecord): Record<string, unknown> {
  const target = endpoint.targetVersion ?? latestVersion;
  const liveNow = endpoint.targetVersion ?? live;
  return {
    name: endpoint.name,
    ...(liveNow ? { liveVersion: liveNow } : {}),
    targetVersion: target,
    agentRuntimeEndpointArn: endpointArn(context, runtimeId, endpoint.name),
    agentRuntimeArn: runtimeArnValue,
    status: version?.status === 'READY' || version === undefined ? 'READY' : version.status === 'CREATE_FAILED' ? 'CREATE_FAILED' : 'UPDATE_FAILED',
    ...(version && version.status !== 'READY' && typeof version.failureReason === 'string' ? { failureReason: version.failureReason } : {}),
    id: endpoint.id,
    ...(endpoint.description ? { description: endpoint.description } : {}),
    createdAt: endpoint.createdAt,
    lastUpdatedAt: endpoint.lastUpdatedAt,
  };
}

function declaredEndpoint(context: ControlPlaneContext, runtime: RuntimeConfig): Record<string, unknown> {
  const at = context.startedAt.toISOString();
  return endpointView(
    context,
    { runtimeId: runtime.agentRuntimeName, runtimeArn: runtimeArn(context, runtime.agentRuntimeName), latestVersion: '1', live: '1' },
    { id: `${DEFAULT_ENDPOINT}`, name: DEFAULT_ENDPOINT, createdAt: at, lastUpdatedAt: at },
  );
}

async function storedEndpointView(context: ControlPlaneContext, record: RuntimeRecord, endpoint: EndpointRecord): Promise<Record<string, unknown>> {
  const version = await context.store.get<VersionRecord>('runtime-version', versionKey(record.agentRuntimeId, endpoint.targetVersion ?? record.latestVersion));
  const live = endpoint.targetVersion ? undefined : (await liveVersion(context, record.agentRuntimeId))?.number;
  return endpointView(context, { runtimeId: record.agentRuntimeId, runtimeArn: record.agentRuntimeArn, latestVersion: record.latestVersion, version: version?.body, live }, endpoint);
}

function endpointName(value: string | undefined, field = 'endpointName'): string {
  return checkString(value ?? '', field, NAME);
}

async function targetVersion(context: ControlPlaneContext, record: RuntimeRecord, body: Input): Promise<string | undefined> {
  const version = optionalString(body, 'agentRuntimeVersion', VERSION);
  if (version !== undefined && !await context.store.get('runtime-version', versionKey(record.agentRuntimeId, version))) {
    throw notFound('Agent runtime version', `${record.agentRuntimeId} version ${version}`);
  }
  return version;
}

const createAgentRuntimeEndpoint: Operation = async (context, { params, body }) => {
  const record = await storedRuntime(context, params.agentRuntimeId ?? '', 'add endpoints to');
  const name = requiredString(body, 'name', NAME);
  if (name === DEFAULT_ENDPOINT) throw new ControlPlaneError('ConflictException', 'The DEFAULT endpoint exists with every runtime and follows its latest version');
  const version = (await targetVersion(context, record, body)) ?? record.latestVersion;
  const text = optionalString(body, 'description', { max: 256 });
  clientToken(body);
  const now = context.now().toISOString();
  const endpoint: EndpointRecord = { id: `${name}-${idSuffix()}`, name, targetVersion: version, ...(text ? { description: text } : {}), createdAt: now, lastUpdatedAt: now };
  await context.store.insert('runtime-endpoint', { id: versionKey(record.agentRuntimeId, name), parent: record.agentRuntimeId, name, body: endpoint });
  const view = await storedEndpointView(context, record, endpoint);
  return {
    status: 202,
    body: { targetVersion: version, agentRuntimeEndpointArn: view.agentRuntimeEndpointArn, agentRuntimeArn: record.agentRuntimeArn, agentRuntimeId: record.agentRuntimeId, endpointName: name, status: view.status, createdAt: now },
  };
};

async function findEndpoint(context: ControlPlaneContext, record: RuntimeRecord, name: string): Promise<EndpointRecord> {
  const endpoint = await context.store.get<EndpointRecord>('runtime-endpoint', versionKey(record.agentRuntimeId, name));
  if (!endpoint) throw notFound('Agent runtime endpoint', `${record.agentRuntimeId}/${name}`);
  return endpoint.body;
}

const getAgentRuntimeEndpoint: Operation = async (context, { params }) => {
  const found = await findRuntime(context, params.agentRuntimeId ?? '');
  const name = endpointName(params.endpointName);
  if ('declared' in found) {
    if (name !== DEFAULT_ENDPOINT) throw notFound('Agent runtime endpoint', `${found.declared.agentRuntimeName}/${name}`);
    return { status: 200, body: declaredEndpoint(context, found.declared) };
  }
  return { status: 200, body: await storedEndpointView(context, found.stored, await findEndpoint(context, found.stored, name)) };
};

const listAgentRuntimeEndpoints: Operation = async (context, { params, query }) => {
  const found = await findRuntime(context, params.agentRuntimeId ?? '');
  const all = 'declared' in found
    ? [declaredEndpoint(context, found.declared)]
    : await Promise.all((await context.store.list<EndpointRecord>('runtime-endpoint', found.stored.agentRuntimeId)).map((endpoint) => storedEndpointView(context, found.stored, endpoint.body)));
  const page = paginate(all, query.get('maxResults') ?? undefined, query.get('nextToken') ?? undefined);
  return { status: 200, body: { runtimeEndpoints: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) } };
};

const updateAgentRuntimeEndpoint: Operation = async (context, { params, body }) => {
  const record = await storedRuntime(context, params.agentRuntimeId ?? '', 'update endpoints of');
  const name = endpointName(params.endpointName);
  const endpoint = await findEndpoint(context, record, name);
  const version = await targetVersion(context, record, body);
  if (name === DEFAULT_ENDPOINT && version !== undefined) throw fieldError('agentRuntimeVersion', 'the DEFAULT endpoint always follows the latest version; create a named endpoint (e.g. PROD) to pin one');
  const text = optionalString(body, 'description', { max: 256 });
  clientToken(body);
  const now = context.now().toISOString();
  const { targetVersion: _previous, description: _text, ...rest } = endpoint;
  const updated: EndpointRecord = { ...rest, ...(version ?? endpoint.targetVersion ? { targetVersion: version ?? endpoint.targetVersion } : {}), ...(text ?? endpoint.description ? { description: text ?? endpoint.description } : {}), lastUpdatedAt: now };
  await context.store.update('runtime-endpoint', versionKey(record.agentRuntimeId, name), updated);
  const view = await storedEndpointView(context, record, updated);
  const { name: _name, id: _id, description: _description, failureReason: _reason, ...response } = view;
  return { status: 202, body: response };
};

const deleteAgentRuntimeEndpoint: Operation = async (context, { params }) => {
  const record = await storedRuntime(context, params.agentRuntimeId ?? '', 'delete endpoints of');
  const name = endpointName(params.endpointName);
  await findEndpoint(context, record, name);
  if (name === DEFAULT_ENDPOINT) throw new ControlPlaneError('ConflictException', 'The DEFAULT endpoint goes with its runtime; delete the runtime instead');
  await context.store.delete('runtime-endpoint', versionKey(record.agentRuntimeId, name));
  return { status: 202, body: { status: 'DELETING', agentRuntimeId: record.agentRuntimeId, endpointName: name } };
};

export const runtimeOperations = {
  CreateAgentRuntime: createAgentRuntime,
  GetAgentRuntime: getAgentRuntime,
  ListAgentRuntimes: listAgentRuntimes,
  ListAgentRuntimeVersions: listAgentRuntimeVersions,
  UpdateAgentRuntime: updateAgentRuntime,
  DeleteAgentRuntime: deleteAgentRuntime,
  CreateAgentRuntimeEndpoint: createAgentRuntimeEndpoint,
  GetAgentRuntimeEndpoint: getAgentRuntimeEndpoint,
  ListAgentRuntimeEndpoints: listAgentRuntimeEndpoints,
  UpdateAgentRuntimeEndpoint: updateAgentRuntimeEndpoint,
  DeleteAgentRuntimeEndpoint: deleteAgentRuntimeEndpoint,
} satisfies Record<string, Operation>;

export type { OperationRequest };
