import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { parse as parseYaml } from 'yaml';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { activeTraceContext, injectTraceContext } from '@gatehouse/core';
import { ToolCallError } from '../gateway-error.ts';
import type { ToolDefinition } from '../tool-definition.ts';
import { jsonResult, type TargetCallScope, type ToolTarget } from './tool-target.ts';

interface Operation {
  readonly tool: ToolDefinition;
  readonly method: string;
  readonly path: string;
  readonly parameters: readonly { name: string; in: 'path' | 'query' | 'header' }[];
  readonly hasBody: boolean;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;
const MAX_RESPONSE_BYTES = 6_000_000;

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Resolves local `#/...` references (the only kind a self-contained document has), with a depth cap against cycles. */
function resolveRefs(document: JsonObject, value: unknown, depth = 0): unknown {
  if (depth > 32) return {};
  if (Array.isArray(value)) return value.map((item) => resolveRefs(document, item, depth + 1));
  if (!isObject(value)) return value;
  if (typeof value.$ref === 'string' && value.$ref.startsWith('#/')) {
    let target: unknown = document;
    for (const part of value.$ref.slice(2).split('/')) target = isObject(target) ? target[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
    return resolveRefs(document, target ?? {}, depth + 1);
  }
  const result: JsonObject = {};
  for (const [key, item] of Object.entries(value)) result[key] = resolveRefs(document, item, depth + 1);
  return result;
}

/**
 * An OpenAPI 3 document as tools: one tool per operation (operationId, else method_path), its input
 * schema built from path/query/header parameters plus `body` for a JSON request body. Calls go to
 * the API with the caller's resolved credentials (headers, query, or SigV4).
 */
export class OpenApiTarget implements ToolTarget {
  readonly name: string;
  readonly #baseUrl: string;
  readonly #operations = new Map<string, Operation>();
  readonly #tools: readonly ToolDefinition[];

  constructor(name: string, documentText: string, baseUrl: string | undefined) {
    this.name = name;
    const document = (documentText.trimStart().startsWith('{') ? JSON.parse(documentText) : parseYaml(documentText)) as unknown;
    if (!isObject(document) || typeof document.openapi !== 'string' || !document.openapi.startsWith('3.')) throw new Error(`Target ${name}: openApiSchema must be an OpenAPI 3 document`);
    const servers = Array.isArray(document.servers) ? document.servers : [];
    const serverUrl = isObject(servers[0]) && typeof servers[0].url === 'string' ? servers[0].url : undefined;
    const chosen = baseUrl ?? serverUrl;
    if (!chosen || !/^https?:\/\//.test(chosen)) throw new Error(`Target ${name}: set targetConfiguration.mcp.baseUrl or an absolute servers[0].url`);
    this.#baseUrl = chosen.replace(/\/$/, '');
    const paths = isObject(document.paths) ? document.paths : {};
    for (const [path, rawItem] of Object.entries(paths)) {
      if (!isObject(rawItem)) continue;
      const item = resolveRefs(document, rawItem) as JsonObject;
      const shared = Array.isArray(item.parameters) ? item.parameters : [];
      for (const method of METHODS) {
        const operation = item[method];
        if (!isObject(operation)) continue;
        const toolName = (typeof operation.operationId === 'string' ? operation.operationId : `${method}_${path}`).replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 128);
        const properties: JsonObject = {};
        const required: string[] = [];
        const parameters: { name: string; in: 'path' | 'query' | 'header' }[] = [];
        for (const parameter of [...shared, ...(Array.isArray(operation.parameters) ? operation.parameters : [])]) {
          if (!isObject(parameter) || typeof parameter.name !== 'string') continue;
          if (parameter.in !== 'path' && parameter.in !== 'query' && parameter.in !== 'header') continue;
          properties[parameter.name] = { ...(isObject(parameter.schema) ? parameter.schema : { type: 'string' }), ...(typeof parameter.description === 'string' ? { description: parameter.description } : {}) };
          if (parameter.required === true || parameter.in === 'path') required.push(parameter.name);
          parameters.push({ name: parameter.name, in: parameter.in });
        }
        const requestBody = isObject(operation.requestBody) ? operation.requestBody : undefined;
        const content = requestBody && isObject(requestBody.content) ? requestBody.content : undefined;
        const jsonBody = content && isObject(content['application/json']) ? content['application/json'] : undefined;
        if (jsonBody) {
          properties.body = isObject(jsonBody.schema) ? jsonBody.schema : { type: 'object' };
          if (requestBody?.required === true) required.push('body');
        }
        const description = [operation.summary, operation.description].filter((text): text is string => typeof text === 'string').join(' — ');
        const tool: ToolDefinition = {
          name: toolName,
          ...(description ? { description } : {}),
          inputSchema: { type: 'object', properties, ...(required.length > 0 ? { required } : {}) },
          ...(method === 'get' || method === 'head' ? { annotations: { readOnlyHint: true } } : {}),
        };
        this.#operations.set(toolName, { tool, method: method.toUpperCase(), path, parameters, hasBody: Boolean(jsonBody) });
      }
    }
    this.#tools = [...this.#operations.values()].map((operation) => operation.tool);
  }

  async listTools(): Promise<readonly ToolDefinition[]> {
    return this.#tools;
  }

  async callTool(tool: string, args: Record<string, unknown>, scope: TargetCallScope): Promise<CallToolResult> {
    const operation = this.#operations.get(tool);
    if (!operation) throw new ToolCallError('ToolNotFound', `Target ${this.name} has no operation ${tool}`);
    let path = operation.path;
    const url = new URL(this.#baseUrl);
    const headers: Record<string, string> = { accept: 'application/json' };
    const query = new URLSearchParams();
    for (const parameter of operation.parameters) {
      const value = args[parameter.name];
      if (value === undefined || value === null) {
        if (parameter.in === 'path') throw new ToolCallError('InvalidArguments', `Tool ${this.name}___${tool} needs argument "${parameter.name}"`);
        continue;
      }
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      if (parameter.in === 'path') path = path.replace(`{${parameter.name}}`, encodeURIComponent(text));
      else if (parameter.in === 'query') query.append(parameter.name, text);
      else if (!/[\r\n]/.test(text)) headers[parameter.name.toLowerCase()] = text;
    }
    // the gateway's outbound span, so the API's own tracing continues this trace
    injectTraceContext(activeTraceContext(), headers);
    for (const [key, value] of Object.entries(scope.credentials.query)) query.set(key, value);
    // credentials last, so an argument can never replace them
    Object.assign(headers, scope.credentials.headers);
    url.pathname = `${url.pathname.replace(/\/$/, '')}${path}`;
    url.search = query.toString();
    let body: string | undefined;
    if (operation.hasBody && args.body !== undefined) {
      body = JSON.stringify(args.body);
      headers['content-type'] = 'application/json';
    }
    if (scope.credentials.aws) Object.assign(headers, await signRequest({ url, method: operation.method, headers, body }, scope.credentials.aws));
    const init: RequestInit = { method: operation.method, headers, signal: scope.signal, redirect: 'manual' };
    if (body !== undefined) init.body = body;
    const response = await fetch(url, init);
    const text = await response.text();
    if (text.length > MAX_RESPONSE_BYTES) return jsonResult({ error: 'ResponseTooLarge', message: `The API answered more than ${MAX_RESPONSE_BYTES} bytes` }, true);
    let value: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json')) {
      try {
        value = JSON.parse(text);
      } catch {
        value = text;
      }
    }
    if (!response.ok) return jsonResult({ status: response.status, body: value }, true);
    return jsonResult(value);
  }

  async close(): Promise<void> {}
}

/** The request as it will be sent, to be signed. */
interface OutgoingRequest {
  readonly url: URL;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
}

/** SigV4 headers for `outgoing` (host excluded: fetch sets it). */
async function signRequest(outgoing: OutgoingRequest, aws: { accessKeyId: string; secretAccessKey: string; sessionToken: string; service: string; region: string }): Promise<Record<string, string>> {
  const { url, method, headers, body } = outgoing;
  const signer = new SignatureV4({ service: aws.service, region: aws.region, sha256: Sha256, credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey, sessionToken: aws.sessionToken } });
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) query[key] = value;
  const request = new HttpRequest({ method, protocol: url.protocol, hostname: url.hostname, ...(url.port ? { port: Number(url.port) } : {}), path: url.pathname, query, headers: { ...headers, host: url.host }, ...(body !== undefined ? { body } : {}) });
  const signed = await signer.sign(request);
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(signed.headers)) if (key !== 'host') result[key] = value;
  return result;
}
