import { gatewaySchema, redactText, gatewayTargetSchema, type GatewayConfig, type GatewayTargetConfig } from '@gatehouse/core';
import type { ControlPlaneContext } from './control-plane-context.ts';
import { lambdaFunctionName } from './lambda-target.ts';

/** What the control plane needs of the gateway component to serve the gateways it creates (`GatewayService`). */
export interface GatewayHost {
  addGateway(config: GatewayConfig): Promise<{ url: string }>;
  removeGateway(name: string): Promise<void>;
}

type Row = Record<string, unknown>;

/** A stored gateway or target as served: its configuration, or why it is not served. */
export type Serving<T> = { readonly config: T } | { readonly reason: string };

/** Gateway ids (`{name}-{10 characters}`) Gatehouse can serve as a path segment and policy file name. */
const SERVED_ID = /^[a-zA-Z0-9-]{1,48}$/;

/**
 * The gateway configuration a stored gateway is served as (the same schema as gatehouse.yaml's), its targets
 * left out; or why it is not served. Only a CUSTOM_JWT inbound authorizer is served: never a gateway without auth.
 */
export function servedGateway(context: ControlPlaneContext, record: Row): Serving<GatewayConfig> {
  // A gatehouse.yaml gateway named like this id (declared after it was created) keeps its path: the file wins.
  if (context.declaredGateways.some((gateway) => gateway.name === record.gatewayId)) {
    return { reason: `Stored, but not served: gatehouse.yaml declares a gateway named ${String(record.gatewayId)}, which is served at that path instead; rename one of them.` };
  }
  if (record.authorizerType !== 'CUSTOM_JWT') {
    return { reason: `Stored, but not served: Gatehouse serves gateways with authorizerType CUSTOM_JWT only (got ${String(record.authorizerType)}); update the gateway with a customJWTAuthorizer.` };
  }
  const id = String(record.gatewayId);
  if (!SERVED_ID.test(id)) return { reason: `Stored, but not served: the gateway id ${id} is longer than the 48 characters Gatehouse serves; create it with a name of at most 37 characters.` };
  const parsed = gatewaySchema.safeParse({
    name: id,
    ...(typeof record.description === 'string' ? { description: record.description } : {}),
    authorizerConfiguration: record.authorizerConfiguration,
  });
  if (!parsed.success) return { reason: `Stored, but not served: ${parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ')}` };
  return { config: parsed.data };
}

/**
 * The target configuration a stored target is served as, or why not: MCP servers (`mcpServer.endpoint`) and
 * OpenAPI schemas given inline. GATEWAY_IAM_ROLE (the default) calls the target without credentials (Gatehouse
 * holds no IAM role of the gateway), JWT_PASSTHROUGH passes the caller's token on.
 */
export function servedTarget(record: Row, functions: ControlPlaneContext['functions'] = {}): Serving<GatewayTargetConfig> {
  const mcp = ((record.targetConfiguration as Row | undefined)?.mcp ?? {}) as Row;
  let targetConfiguration: Row;
  if (mcp.lambda) {
    const lambda = servedLambda(mcp.lambda as Row, functions);
    if ('reason' in lambda) return lambda;
    targetConfiguration = { mcp: { lambda: lambda.config } };
  } else if (mcp.mcpServer) targetConfiguration = { mcp: { mcpServer: { endpoint: (mcp.mcpServer as Row).endpoint } } };
  else if (mcp.openApiSchema && typeof (mcp.openApiSchema as Row).inlinePayload === 'string') {
    targetConfiguration = { mcp: { openApiSchema: { inlinePayload: (mcp.openApiSchema as Row).inlinePayload } } };
  } else if (mcp.openApiSchema) return { reason: 'Stored, but not served: OpenAPI schemas are not fetched from S3 yet; give the schema as openApiSchema.inlinePayload.' };
  else {
    const kind = Object.keys(mcp)[0] ?? 'this';
    return { reason: `Stored, but not served: Gatehouse serves mcpServer, inline openApiSchema and lambda targets created through the API, not ${kind} targets.` };
  }
  const providers = (record.credentialProviderConfigurations ?? []) as readonly Row[];
  const type = providers[0]?.credentialProviderType ?? 'GATEWAY_IAM_ROLE';
  let credentialProviderConfigurations: Row[];
  if (type === 'GATEWAY_IAM_ROLE') credentialProviderConfigurations = [{ credentialProviderType: 'NONE' }];
  else if (type === 'JWT_PASSTHROUGH') credentialProviderConfigurations = [{ credentialProviderType: 'JWT_PASSTHROUGH' }];
  else if (type === 'OAUTH' || type === 'API_KEY') credentialProviderConfigurations = [vaultProvider(type, providers[0]!)];
  else {
    return { reason: `Stored, but not served: ${String(type)} credential providers are not used by targets created through the API yet; leave credentialProviderConfigurations out (no credentials) or declare the target in gatehouse.yaml.` };
  }
  const parsed = gatewayTargetSchema.safeParse({
    name: record.name,
    ...(typeof record.description === 'string' ? { description: record.description } : {}),
    targetConfiguration,
    credentialProviderConfigurations,
  });
  if (!parsed.success) return { reason: `Stored, but not served: ${parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ')}` };
  return { config: parsed.data };
}

/**
 * A Lambda target as served: there is no Lambda here, so the function name in `lambdaArn` names a local function
 * of gatehouse.yaml's `controlPlane.functions` (a module's Lambda-style handler, or a built-in), called in process
 * with the tool schema given inline.
 */
function servedLambda(lambda: Row, functions: ControlPlaneContext['functions']): Serving<Row> {
  const name = lambdaFunctionName(String(lambda.lambdaArn));
  const local = name === undefined ? undefined : functions[name];
  if (!local) return { reason: `Stored, but not served: no local function named ${String(name)} on this Gatehouse; declare it in gatehouse.yaml controlPlane.functions.` };
  const schema = lambda.toolSchema as Row | undefined;
  if (!Array.isArray(schema?.inlinePayload)) return { reason: 'Stored, but not served: tool schemas are not fetched from S3 yet; give toolSchema.inlinePayload.' };
  return { config: { module: local.module, handler: local.handler, toolSchema: { inlinePayload: schema.inlinePayload } } };
}

/** What a gateway is served as, with every target that can be served; undefined when the gateway is not served. */
async function servingPlan(context: ControlPlaneContext, gatewayId: string): Promise<GatewayConfig | undefined> {
  const row = (await context.store.get<Row>('gateway', gatewayId))?.body;
  const gateway = row && servedGateway(context, row);
  if (!gateway || !('config' in gateway)) return undefined;
  const targets: GatewayTargetConfig[] = [];
  for (const target of await context.store.list<Row>('gateway-target', gatewayId)) {
    const served = servedTarget(target.body, context.functions);
    if ('config' in served) targets.push(served.config);
  }
  return { ...gateway.config, targets };
}

/**
 * Keeps the gateway component in line with the store, like the runtime follower: after this instance's own
 * changes and after other instances' commits. A gateway is rebuilt only when what it is served as changed.
 */
export class GatewayFollower {
  readonly #context: ControlPlaneContext;
  readonly #host: GatewayHost;
  /** Gateway id → JSON of what it is served as. */
  readonly #served = new Map<string, string>();
  /** Gateway id → why the gateway component refused it (e.g. an OpenAPI document it cannot read). */
  readonly #refused = new Map<string, string>();

  constructor(context: ControlPlaneContext, host: GatewayHost) {
    this.#context = context;
    this.#host = host;
  }

  /** Why a stored gateway that should be served could not be, if so. */
  refusal(gatewayId: string): string | undefined {
    return this.#refused.get(gatewayId);
  }

  /** One change at a time: this instance's own calls and the poll for other instances' may overlap. */
  #queue: Promise<void> = Promise.resolve();

  /** `rebuild`: serve it anew even when unchanged (its targets' tool lists are then loaded again). */
  follow(gatewayId: string, rebuild = false): Promise<void> {
    const next = this.#queue.then(() => this.#follow(gatewayId, rebuild));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #follow(gatewayId: string, rebuild: boolean): Promise<void> {
    const plan = await servingPlan(this.#context, gatewayId);
    const fingerprint = plan && JSON.stringify(plan);
    if (fingerprint === this.#served.get(gatewayId) && !(rebuild && plan)) return;
    if (!plan || !fingerprint) {
      this.#served.delete(gatewayId);
      this.#refused.delete(gatewayId);
      await this.#host.removeGateway(gatewayId);
      return;
    }
    try {
      await this.#host.addGateway(plan);
      this.#refused.delete(gatewayId);
    } catch (error) {
      // What was served before (if anything) stays served; the status says why the change did not apply.
      this.#refused.set(gatewayId, `Not served as stored: ${error instanceof Error ? redactText(error.message) : 'the gateway could not be built'}`);
    }
    this.#served.set(gatewayId, fingerprint);
  }

  /** Every gateway in the store, and those served here that the store no longer has. */
  async followAll(): Promise<void> {
    const ids = new Set([...(await this.#context.store.list('gateway')).map((gateway) => gateway.id), ...this.#served.keys()]);
    for (const id of ids) await this.follow(id);
  }
}

/** OAUTH / API_KEY targets of the API name a token-vault provider (`providerArn`); the gateway asks the vault per user. */
function vaultProvider(type: 'OAUTH' | 'API_KEY', entry: Row): Row {
  const provider = (entry.credentialProvider ?? {}) as Record<string, Row>;
  if (type === 'OAUTH') {
    const oauth = provider.oauthCredentialProvider ?? {};
    return {
      credentialProviderType: 'OAUTH',
      oauthCredentialProvider: {
        providerArn: oauth.providerArn,
        scopes: Array.isArray(oauth.scopes) ? oauth.scopes : [],
        grantType: oauth.grantType === 'CLIENT_CREDENTIALS' ? 'CLIENT_CREDENTIALS' : 'AUTHORIZATION_CODE',
        ...(typeof oauth.defaultReturnUrl === 'string' ? { defaultReturnUrl: oauth.defaultReturnUrl } : {}),
      },
    };
  }
  const apiKey = provider.apiKeyCredentialProvider ?? {};
  return {
    credentialProviderType: 'API_KEY',
    apiKeyCredentialProvider: {
      providerArn: apiKey.providerArn,
      ...(typeof apiKey.credentialParameterName === 'string' ? { credentialParameterName: apiKey.credentialParameterName } : {}),
      ...(typeof apiKey.credentialPrefix === 'string' ? { credentialPrefix: apiKey.credentialPrefix } : {}),
      ...(apiKey.credentialLocation === 'QUERY_PARAMETER' ? { credentialLocation: 'QUERY_PARAMETER' } : {}),
    },
  };
}
