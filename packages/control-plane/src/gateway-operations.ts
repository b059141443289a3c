import type { GatewayConfig } from '@gatehouse/core';
import { isHttpsOrLoopbackUrl } from '@gatehouse/core';
import { ControlPlaneError, declaredInConfig, fieldError, notFound } from './control-plane-error.ts';
import { arn, idSuffix, type ControlPlaneContext, type Operation } from './control-plane-context.ts';
import { authorizerConfiguration, clientToken, declaredAuthorizer, description, roleArn } from './aws-fields.ts';
import { checkString, nested, nestedAsync, oneMember, optionalEnum, optionalObject, optionalStringMap, requiredEnum, requiredObject, requiredString, type Input } from './input-fields.ts';
import { parse as parseYaml } from 'yaml';
import { paginate } from './paginate.ts';
import { servedGateway, servedTarget } from './gateway-serving.ts';
import { lambdaTarget } from './lambda-target.ts';

const NAME = { pattern: /^([0-9a-zA-Z][-]?){1,100}$/, patternHint: 'hold letters and digits, with single hyphens between them (at most 100)', max: 100 };
const TARGET_ID = { pattern: /^[0-9a-zA-Z]{10}$/, patternHint: 'be a target id (10 letters and digits)', max: 10 };

/**
 * Status of a stored gateway, worked out when read from what the gateway component can serve (so it never
 * says READY of a gateway that does not answer, nor keeps an old FAILED once Gatehouse learned to serve it).
 */
function gatewayView(context: ControlPlaneContext, record: GatewayRecord): Record<string, unknown> {
  const { status: _status, statusReasons: _reasons, gatewayUrl: _url, ...rest } = record;
  const served = servedGateway(context, record);
  const refusal = 'config' in served ? context.gatewayRefusal(record.gatewayId) : served.reason;
  if (refusal) return { ...rest, status: record.createdAt === record.updatedAt ? 'FAILED' : 'UPDATE_UNSUCCESSFUL', statusReasons: [refusal] };
  return { ...rest, gatewayUrl: `${context.baseUrl}/gateways/${record.gatewayId}/mcp`, status: 'READY' };
}

/** Why no target of this gateway answers, whatever the target holds; undefined when the gateway is served. Worked out once per request. */
function targetsRefusal(context: ControlPlaneContext, gateway: GatewayRecord): string | undefined {
  const served = servedGateway(context, gateway);
  return 'reason' in served ? served.reason : context.gatewayRefusal(gateway.gatewayId);
}

function targetView(record: TargetRecord, gatewayRefusal: string | undefined, functions: ControlPlaneContext['functions']): Record<string, unknown> {
  const { status: _status, statusReasons: _reasons, ...rest } = record;
  const served = servedTarget(record, functions);
  const refusal = 'config' in served ? gatewayRefusal : served.reason;
  if (refusal) return { ...rest, status: record.createdAt === record.updatedAt ? 'FAILED' : 'UPDATE_UNSUCCESSFUL', statusReasons: [refusal] };
  return { ...rest, status: 'READY' };
}

type GatewayRecord = Record<string, unknown> & { readonly gatewayId: string; readonly name: string; readonly gatewayArn: string; readonly createdAt: string };
type TargetRecord = Record<string, unknown> & { readonly targetId: string; readonly name: string; readonly credentialProviderConfigurations: readonly Input[] };

type FoundGateway = { readonly declared: GatewayConfig } | { readonly stored: GatewayRecord };

function gatewayArn(context: ControlPlaneContext, id: string): string {
  return arn(context, `gateway/${id}`);
}

async function findGateway(context: ControlPlaneContext, id: string): Promise<FoundGateway> {
  const declared = context.declaredGateways.find((gateway) => gateway.name === id);
  if (declared) return { declared };
  const stored = await context.store.get<GatewayRecord>('gateway', id);
  if (stored) return { stored: stored.body };
  if (!/^([0-9a-zA-Z][-]?){1,100}-[0-9a-z]{10}$/.test(id) && !NAME.pattern.test(id)) throw fieldError('gatewayIdentifier', 'must be a gateway id (name-xxxxxxxxxx)');
  throw notFound('Gateway', id);
}

async function storedGateway(context: ControlPlaneContext, id: string, action: string): Promise<GatewayRecord> {
  const found = await findGateway(context, id);
  if ('declared' in found) throw declaredInConfig('gateway', found.declared.name, action);
  return found.stored;
}

function declaredView(context: ControlPlaneContext, gateway: GatewayConfig): Record<string, unknown> {
  const at = context.startedAt.toISOString();
  const url = context.gatewayUrl(gateway.name);
  return {
    gatewayArn: gatewayArn(context, gateway.name),
    gatewayId: gateway.name,
    ...(url ? { gatewayUrl: url } : {}),
    createdAt: at,
    updatedAt: at,
    status: 'READY',
    name: gateway.name,
    ...(gateway.description ? { description: gateway.description } : {}),
    protocolType: 'MCP',
    authorizerType: 'CUSTOM_JWT',
    ...declaredAuthorizer(gateway.authorizerConfiguration),
  };
}

function gatewaySpec(body: Input): Record<string, unknown> {
  const name = requiredString(body, 'name', NAME);
  const spec: Record<string, unknown> = { name, roleArn: roleArn(body) };
  const text = description(body, 200);
  if (text !== undefined) spec.description = text;
  spec.protocolType = optionalEnum(body, 'protocolType', ['MCP']) ?? 'MCP';
  const protocol = optionalObject(body, 'protocolConfiguration');
  if (protocol) {
    oneMember(protocol, 'protocolConfiguration', ['mcp']);
    spec.protocolConfiguration = { mcp: requiredObject(protocol, 'mcp') };
  }
  const authorizerType = requiredEnum(body, 'authorizerType', ['CUSTOM_JWT', 'AWS_IAM', 'NONE', 'AUTHENTICATE_ONLY']);
  spec.authorizerType = authorizerType;
  const authorizer = authorizerConfiguration(body);
  if (authorizerType === 'CUSTOM_JWT' && !authorizer) throw fieldError('authorizerConfiguration', 'is required when authorizerType is CUSTOM_JWT');
  if (authorizerType !== 'CUSTOM_JWT' && authorizer) throw fieldError('authorizerConfiguration', `must be left out when authorizerType is ${authorizerType}`);
  if (authorizer) spec.authorizerConfiguration = authorizer;
  const kmsKeyArn = body.kmsKeyArn;
  if (kmsKeyArn !== undefined) throw fieldError('kmsKeyArn', 'Gatehouse seals with its own store key and uses no KMS key; leave kmsKeyArn out');
  optionalEnum(body, 'exceptionLevel', ['DEBUG']);
  clientToken(body);
  return spec;
}

const createGateway: Operation = async (context, { body }) => {
  const spec = gatewaySpec(body);
  optionalStringMap(body, 'tags', 50);
  const name = spec.name as string;
  if (context.declaredGateways.some((gateway) => gateway.name === name)) throw new ControlPlaneError('ConflictException', `A gateway named ${name} is declared in gatehouse.yaml; choose another name`);
  const id = `${name.toLowerCase()}-${idSuffix(true)}`;
  const now = context.now().toISOString();
  const record: GatewayRecord = { gatewayArn: gatewayArn(context, id), gatewayId: id, createdAt: now, updatedAt: now, ...spec, name };
  await context.store.insert('gateway', { id, parent: '', name, body: record });
  return { status: 202, body: gatewayView(context, record) };
};

const getGateway: Operation = async (context, { params }) => {
  const found = await findGateway(context, params.gatewayIdentifier ?? '');
  return { status: 200, body: 'declared' in found ? declaredView(context, found.declared) : gatewayView(context, found.stored) };
};

function gatewaySummary(view: Record<string, unknown>): Record<string, unknown> {
  const { gatewayId, name, status, description: text, createdAt, updatedAt, authorizerType, protocolType } = view;
  return { gatewayId, name, status, ...(text ? { description: text } : {}), createdAt, updatedAt, authorizerType, protocolType };
}

const listGateways: Operation = async (context, { query }) => {
  const all = [
    ...context.declaredGateways.map((gateway) => gatewaySummary(declaredView(context, gateway))),
    ...(await context.store.list<GatewayRecord>('gateway')).map((row) => gatewaySummary(gatewayView(context, row.body))),
  ];
  const page = paginate(all, query.get('maxResults') ?? undefined, query.get('nextToken') ?? undefined, 1000);
  return { status: 200, body: { items: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) } };
};

const updateGateway: Operation = async (context, { params, body }) => {
  const record = await storedGateway(context, params.gatewayIdentifier ?? '', 'update');
  const spec = gatewaySpec(body);
  if (spec.name !== record.name) throw fieldError('name', `a gateway keeps its name (${record.name}); create a new gateway for another name`);
  const updated: GatewayRecord = { gatewayArn: record.gatewayArn, gatewayId: record.gatewayId, createdAt: record.createdAt, updatedAt: context.now().toISOString(), ...spec, name: record.name };
  await context.store.update('gateway', record.gatewayId, updated);
  return { status: 202, body: gatewayView(context, updated) };
};

const deleteGateway: Operation = async (context, { params }) => {
  const record = await storedGateway(context, params.gatewayIdentifier ?? '', 'delete');
  const targets = await context.store.list('gateway-target', record.gatewayId);
  if (targets.length > 0) throw new ControlPlaneError('ConflictException', `Gateway ${record.gatewayId} still has ${targets.length} target(s) (${targets.map((target) => target.name).join(', ')}); delete them first`);
  await context.store.delete('gateway', record.gatewayId);
  return { status: 202, body: { gatewayId: record.gatewayId, status: 'DELETING' } };
};

function targetConfiguration(body: Input, functions: ControlPlaneContext['functions']): Input {
  const value = requiredObject(body, 'targetConfiguration');
  const kind = oneMember(value, 'targetConfiguration', ['mcp', 'http']);
  if (kind === 'http') throw fieldError('targetConfiguration.http', 'HTTP (agentcoreRuntime) targets are not served by Gatehouse; use an mcp target');
  const mcp = requiredObject(value, 'mcp');
  return nested('targetConfiguration.mcp', () => {
    const member = oneMember(mcp, 'mcp', ['openApiSchema', 'smithyModel', 'lambda', 'mcpServer', 'apiGateway']);
    const inner = requiredObject(mcp, member);
    return nested(member, () => {
      if (member === 'mcpServer') {
        const endpoint = requiredString(inner, 'endpoint', { max: 2048 });
        if (!isHttpsOrLoopbackUrl(endpoint)) throw fieldError('endpoint', 'must be an https URL (plain http only for localhost / 127.0.0.1)');
        return { mcp: { mcpServer: { ...inner, endpoint } } };
      }
      if (member === 'openApiSchema' || member === 'smithyModel') {
        const source = oneMember(inner, member, ['s3', 'inlinePayload']);
        if (source === 'inlinePayload') {
          checkString(inner.inlinePayload, 'inlinePayload', { max: 1_000_000 });
          if (member === 'openApiSchema') checkOpenApiServer(inner.inlinePayload as string);
        }
        else requiredObject(inner, 's3');
        return { mcp: { [member]: inner } };
      }
      if (member === 'lambda') return { mcp: { lambda: lambdaTarget(inner, functions) } };
      return { mcp: { [member]: inner } };
    });
  });
}

/**
 * The API an OpenAPI target calls is its document's `servers[0].url`: https, or plain http only on loopback, as for
 * MCP server endpoints (the gateway sends callers' requests, and possibly credentials, there).
 */
function checkOpenApiServer(text: string): void {
  let document: unknown;
  try {
    document = text.trimStart().startsWith('{') ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 50 });
  } catch {
    throw fieldError('inlinePayload', 'must be an OpenAPI 3 document (JSON or YAML)');
  }
  const servers = (document as { servers?: unknown } | null)?.servers;
  const url = Array.isArray(servers) ? (servers[0] as { url?: unknown } | undefined)?.url : undefined;
  if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw fieldError('inlinePayload', 'needs servers[0].url, the absolute URL of the API the tools call');
  if (!isHttpsOrLoopbackUrl(url)) throw fieldError('inlinePayload', 'servers[0].url must be an https URL (plain http only for localhost / 127.0.0.1)');
}

async function credentialProviders(context: ControlPlaneContext, body: Input): Promise<Input[]> {
  const value = body.credentialProviderConfigurations;
  if (value === undefined || value === null) return [{ credentialProviderType: 'GATEWAY_IAM_ROLE' }];
  if (!Array.isArray(value) || value.length !== 1) throw fieldError('credentialProviderConfigurations', 'must be a list of exactly one credential provider configuration');
  return Promise.all(value.map((item: unknown, index) =>
    nestedAsync(`credentialProviderConfigurations[${index}]`, async () => {
      if (!item || typeof item !== 'object' || Array.isArray(item)) throw fieldError('credentialProviderType', 'is required');
      const entry = item as Input;
      const type = requiredEnum(entry, 'credentialProviderType', ['GATEWAY_IAM_ROLE', 'OAUTH', 'API_KEY', 'CALLER_IAM_CREDENTIALS', 'JWT_PASSTHROUGH']);
      if (type !== 'OAUTH' && type !== 'API_KEY') return { credentialProviderType: type };
      const provider = requiredObject(entry, 'credentialProvider');
      const member = type === 'OAUTH' ? 'oauthCredentialProvider' : 'apiKeyCredentialProvider';
      const config = nested('credentialProvider', () => requiredObject(provider, member));
      const providerArn = nested(`credentialProvider.${member}`, () => requiredString(config, 'providerArn', { max: 2048 }));
      const kind = type === 'OAUTH' ? 'oauth2-credential-provider' : 'api-key-credential-provider';
      const known = (await context.store.list<{ credentialProviderArn: string }>(kind)).some((row) => row.body.credentialProviderArn === providerArn);
      if (!known) throw fieldError(`credentialProvider.${member}.providerArn`, `names no ${type === 'OAUTH' ? 'OAuth2' : 'API key'} credential provider; create it first (Create${type === 'OAUTH' ? 'Oauth2' : 'ApiKey'}CredentialProvider)`);
      return { credentialProviderType: type, credentialProvider: { [member]: config } };
    }),
  ));
}

async function targetSpec(context: ControlPlaneContext, body: Input): Promise<Record<string, unknown>> {
  const name = requiredString(body, 'name', NAME);
  const spec: Record<string, unknown> = { name, targetConfiguration: targetConfiguration(body, context.functions), credentialProviderConfigurations: await credentialProviders(context, body) };
  const text = description(body, 200);
  if (text !== undefined) spec.description = text;
  clientToken(body);
  return spec;
}

function targetKey(gatewayId: string, targetId: string): string {
  return `${gatewayId}:${targetId}`;
}

function declaredTargets(context: ControlPlaneContext, gateway: GatewayConfig): Record<string, unknown>[] {
  const at = context.startedAt.toISOString();
  return gateway.targets.map((target) => ({
    gatewayArn: gatewayArn(context, gateway.name),
    targetId: target.name,
    createdAt: at,
    updatedAt: at,
    status: 'READY',
    name: target.name,
    ...(target.description ? { description: target.description } : {}),
    targetConfiguration: target.targetConfiguration,
    credentialProviderConfigurations: target.credentialProviderConfigurations.map((provider) => ({ credentialProviderType: provider.credentialProviderType })),
  }));
}

const createGatewayTarget: Operation = async (context, { params, body }) => {
  const gateway = await storedGateway(context, params.gatewayIdentifier ?? '', 'add targets to');
  const spec = await targetSpec(context, body);
  const now = context.now().toISOString();
  const targetId = idSuffix().toUpperCase();
  const record: TargetRecord = {
    gatewayArn: gateway.gatewayArn,
    targetId,
    createdAt: now,
    updatedAt: now,
    ...spec,
    name: spec.name as string,
    credentialProviderConfigurations: spec.credentialProviderConfigurations as Input[],
  };
  await context.store.insert('gateway-target', { id: targetKey(gateway.gatewayId, targetId), parent: gateway.gatewayId, name: record.name, body: record });
  return { status: 202, body: targetView(record, targetsRefusal(context, gateway), context.functions) };
};

async function findTarget(context: ControlPlaneContext, gatewayId: string, targetId: string): Promise<TargetRecord> {
  const target = await context.store.get<TargetRecord>('gateway-target', targetKey(gatewayId, targetId));
  if (!target) {
    checkString(targetId, 'targetId', TARGET_ID);
    throw notFound('Gateway target', `${gatewayId}/${targetId}`);
  }
  return target.body;
}

const getGatewayTarget: Operation = async (context, { params }) => {
  const found = await findGateway(context, params.gatewayIdentifier ?? '');
  const targetId = params.targetId ?? '';
  if ('declared' in found) {
    const target = declaredTargets(context, found.declared).find((entry) => entry.targetId === targetId);
    if (!target) throw notFound('Gateway target', `${found.declared.name}/${targetId}`);
    return { status: 200, body: target };
  }
  return { status: 200, body: targetView(await findTarget(context, found.stored.gatewayId, targetId), targetsRefusal(context, found.stored), context.functions) };
};

async function storedTargets(context: ControlPlaneContext, gateway: GatewayRecord): Promise<Record<string, unknown>[]> {
  const refusal = targetsRefusal(context, gateway);
  return (await context.store.list<TargetRecord>('gateway-target', gateway.gatewayId)).map((row) => targetView(row.body, refusal, context.functions));
}

const listGatewayTargets: Operation = async (context, { params, query }) => {
  const found = await findGateway(context, params.gatewayIdentifier ?? '');
  const all = ('declared' in found ? declaredTargets(context, found.declared) : await storedTargets(context, found.stored)).map(
    ({ targetId, name, status, description: text, createdAt, updatedAt }) => ({ targetId, name, status, ...(text ? { description: text } : {}), createdAt, updatedAt }),
  );
  const page = paginate(all, query.get('maxResults') ?? undefined, query.get('nextToken') ?? undefined, 1000);
  return { status: 200, body: { items: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) } };
};

const updateGatewayTarget: Operation = async (context, { params, body }) => {
  const gateway = await storedGateway(context, params.gatewayIdentifier ?? '', 'update targets of');
  const target = await findTarget(context, gateway.gatewayId, params.targetId ?? '');
  const spec = await targetSpec(context, body);
  if (spec.name !== target.name && await context.store.byName('gateway-target', spec.name as string, gateway.gatewayId)) {
    throw new ControlPlaneError('ConflictException', `Gateway ${gateway.gatewayId} already has a target named ${String(spec.name)}`);
  }
  const updated: TargetRecord = {
    gatewayArn: gateway.gatewayArn,
    targetId: target.targetId,
    createdAt: target.createdAt,
    updatedAt: context.now().toISOString(),
    ...spec,
    name: spec.name as string,
    credentialProviderConfigurations: spec.credentialProviderConfigurations as Input[],
  };
  await context.store.update('gateway-target', targetKey(gateway.gatewayId, target.targetId), updated);
  return { status: 202, body: targetView(updated, targetsRefusal(context, gateway), context.functions) };
};

const deleteGatewayTarget: Operation = async (context, { params }) => {
  const gateway = await storedGateway(context, params.gatewayIdentifier ?? '', 'delete targets of');
  const target = await findTarget(context, gateway.gatewayId, params.targetId ?? '');
  await context.store.delete('gateway-target', targetKey(gateway.gatewayId, target.targetId));
  return { status: 202, body: { gatewayArn: gateway.gatewayArn, targetId: target.targetId, status: 'DELETING' } };
};

/**
 * Reloads the tool lists of the named targets (the gateway is rebuilt after this returns, see create-control-plane.ts);
 * the targets' lastSynchronizedAt records when.
 */
const synchronizeGatewayTargets: Operation = async (context, { params, body }) => {
  const gateway = await storedGateway(context, params.gatewayIdentifier ?? '', 'synchronize targets of');
  const list = body.targetIdList;
  if (!Array.isArray(list) || list.length < 1 || list.length > 100) throw fieldError('targetIdList', 'must list 1 to 100 target ids of this gateway');
  const targets: TargetRecord[] = [];
  for (const [index, value] of (list as unknown[]).entries()) {
    if (typeof value !== 'string') throw fieldError(`targetIdList[${index}]`, 'must be a target id (10 letters and digits)');
    targets.push(await findTarget(context, gateway.gatewayId, value));
  }
  const now = context.now().toISOString();
  const refusal = targetsRefusal(context, gateway);
  const synchronized: Record<string, unknown>[] = [];
  for (const target of targets) {
    const updated: TargetRecord = { ...target, lastSynchronizedAt: now };
    await context.store.update('gateway-target', targetKey(gateway.gatewayId, target.targetId), updated);
    synchronized.push(targetView(updated, refusal, context.functions));
  }
  return { status: 202, body: { targets: synchronized } };
};

/** The gateway target (gateway/target name) whose credential provider is this ARN, if any. */
export async function targetUsingProvider(context: ControlPlaneContext, providerArn: string): Promise<string | undefined> {
  for (const gateway of await context.store.list<GatewayRecord>('gateway')) {
    for (const target of await context.store.list<TargetRecord>('gateway-target', gateway.id)) {
      const uses = target.body.credentialProviderConfigurations.some((entry) => {
        const provider = entry.credentialProvider as Record<string, { providerArn?: string }> | undefined;
        return Object.values(provider ?? {}).some((config) => config.providerArn === providerArn);
      });
      if (uses) return `${gateway.name}/${target.name}`;
    }
  }
  return undefined;
}

export const gatewayOperations = {
  CreateGateway: createGateway,
  GetGateway: getGateway,
  ListGateways: listGateways,
  UpdateGateway: updateGateway,
  DeleteGateway: deleteGateway,
  CreateGatewayTarget: createGatewayTarget,
  GetGatewayTarget: getGatewayTarget,
  ListGatewayTargets: listGatewayTargets,
  UpdateGatewayTarget: updateGatewayTarget,
  DeleteGatewayTarget: deleteGatewayTarget,
  SynchronizeGatewayTargets: synchronizeGatewayTargets,
} satisfies Record<string, Operation>;
