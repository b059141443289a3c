import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { GatewayTargetConfig } from '@gatehouse/core';
import { DeployConfigError } from './deploy-error.ts';
import { OPS_TOOLS_FUNCTION } from './deploy-names.ts';
import type { PlannedTarget } from './deploy-plan.ts';

/**
 * AgentCore calls an OpenAPI target at the schema's `servers[0].url`; locally Gatehouse may take it from
 * `baseUrl` instead. The deployed schema carries the URL either way (JSON, https only).
 */
function withServer(field: string, text: string, baseUrl: string | undefined): string {
  let schema: { servers?: { url?: unknown }[] } & Record<string, unknown>;
  try {
    schema = parseYaml(text) as typeof schema;
  } catch {
    throw new DeployConfigError(field, 'is not valid JSON or YAML.');
  }
  if (!schema || typeof schema !== 'object') throw new DeployConfigError(field, 'is not an OpenAPI document.');
  const servers = baseUrl ? [{ url: baseUrl }] : Array.isArray(schema.servers) ? schema.servers : [];
  const url = servers[0]?.url;
  if (typeof url !== 'string') throw new DeployConfigError(field, 'AgentCore needs the API\'s address: give the schema a servers[0].url, or set baseUrl next to openApiSchema.');
  if (!url.startsWith('https://')) throw new DeployConfigError(baseUrl ? `${field.replace(/\.openApiSchema$/, '')}.baseUrl` : `${field}.servers[0].url`, `"${url}": AgentCore Gateway calls APIs over https only.`);
  return JSON.stringify({ ...schema, servers });
}

export function planTarget(field: string, target: GatewayTargetConfig, configDir: string): PlannedTarget {
  const mcp = target.targetConfiguration.mcp;
  const base = { name: target.name, description: target.description };
  const credential = target.credentialProviderConfigurations[0]?.credentialProviderType ?? 'NONE';
  if (credential === 'API_KEY' || credential === 'OAUTH' || credential === 'JWT_PASSTHROUGH') {
    throw new DeployConfigError(
      `${field}.credentialProviderConfigurations[0].credentialProviderType`,
      `${credential} needs a credential provider holding a secret, which this app does not put in a template. ` +
        'Create the provider with `aws bedrock-agentcore-control create-api-key-credential-provider` (or the OAuth2 one) and add the target with the console or CLI, or use NONE / GATEWAY_IAM_ROLE here.',
    );
  }
  if ('lambda' in mcp) {
    if (mcp.lambda.module === OPS_TOOLS_FUNCTION) return { kind: 'ops-tools', ...base };
    const inline = mcp.lambda.toolSchema?.inlinePayload;
    const toolSchema = typeof inline === 'string' ? (JSON.parse(inline) as unknown) : inline;
    if (!Array.isArray(toolSchema)) {
      throw new DeployConfigError(`${field}.targetConfiguration.mcp.lambda.toolSchema`, 'a Lambda target on AgentCore needs its tool schema declared (toolSchema.inlinePayload: a list of tools).');
    }
    const entry = path.resolve(configDir, mcp.lambda.module);
    if (!existsSync(entry)) throw new DeployConfigError(`${field}.targetConfiguration.mcp.lambda.module`, `no file at ${mcp.lambda.module} (relative to the config file).`);
    return { kind: 'lambda', ...base, entry, handler: mcp.lambda.handler, toolSchema };
  }
  if ('mcpServer' in mcp) {
    if (new URL(mcp.mcpServer.endpoint).protocol !== 'https:') {
      throw new DeployConfigError(`${field}.targetConfiguration.mcp.mcpServer.endpoint`, 'AgentCore Gateway reaches MCP servers over the internet and requires an https endpoint.');
    }
    return { kind: 'mcp-server', ...base, endpoint: mcp.mcpServer.endpoint };
  }
  if ('openApiSchema' in mcp) {
    const schemaField = `${field}.targetConfiguration.mcp.openApiSchema`;
    const source = mcp.openApiSchema;
    let text: string;
    if ('path' in source) {
      const file = path.resolve(configDir, source.path);
      if (!existsSync(file)) throw new DeployConfigError(`${schemaField}.path`, `no file at ${source.path} (relative to the config file).`);
      text = readFileSync(file, 'utf8');
    } else {
      text = source.inlinePayload;
    }
    return { kind: 'openapi', ...base, inline: withServer(schemaField, text, mcp.baseUrl) };
  }
  throw new DeployConfigError(
    `${field}.targetConfiguration.mcp.stdioServer`,
    'AgentCore Gateway cannot start local processes. Run the MCP server somewhere reachable over https (for example as its own AgentCore Runtime with protocol MCP) and declare it as mcpServer.endpoint.',
  );
}
