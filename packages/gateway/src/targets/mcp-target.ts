import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { tracingFetch } from '@gatehouse/core';
import { ToolCallError } from '../gateway-error.ts';
import type { ToolDefinition } from '../tool-definition.ts';
import type { TargetCallScope, ToolTarget } from './tool-target.ts';
import { perRequestSignalFetch } from './per-request-signal-fetch.ts';
import { PooledToolCaller } from './pooled-tool-call.ts';

type Connect = (headers: Readonly<Record<string, string>>, query: Readonly<Record<string, string>>) => Transport;

const MAX_CLIENTS = 64;

/** A tool the SDK client would call without extra work: no output schema to validate, no task support to negotiate. */
function isPlainTool(tool: ToolDefinition): boolean {
  const taskSupport = (tool as { execution?: { taskSupport?: unknown } }).execution?.taskSupport;
  return tool.outputSchema === undefined && (taskSupport === undefined || taskSupport === 'forbidden');
}

/**
 * An upstream MCP server (Streamable HTTP or a stdio child). One SDK client per distinct credential
 * (so one user's upstream session never carries another user's token), kept warm and reused;
 * the tool list is fetched once and memoized.
 */
export class McpTarget implements ToolTarget {
  readonly name: string;
  readonly #connect: Connect;
  readonly #clients = new Map<string, Promise<Client>>();
  #tools: Promise<readonly ToolDefinition[]> | undefined;
  /** HTTP targets: tools/call on a kept-alive pool, in the SDK client's session (pooled-tool-call.ts). */
  readonly #pooled: PooledToolCaller | undefined;
  /** Tools the pool may call: the listed ones without an output schema (the SDK client validates those) or task support. */
  #plainTools: ReadonlySet<string> = new Set();

  constructor(name: string, connect: Connect, pooled?: PooledToolCaller) {
    this.name = name;
    this.#connect = connect;
    this.#pooled = pooled;
  }

  static http(name: string, endpoint: string): McpTarget {
    const connect: Connect = (headers, query) => {
      const url = new URL(endpoint);
      for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
      // The client is shared by a user's calls; each request takes `traceparent` from the call running it.
      return new StreamableHTTPClientTransport(url, { requestInit: { headers: { ...headers } }, fetch: perRequestSignalFetch(tracingFetch()) });
    };
    return new McpTarget(name, connect, new PooledToolCaller(endpoint));
  }

  static stdio(name: string, command: readonly string[], env: Readonly<Record<string, string>>, cwd?: string): McpTarget {
    return new McpTarget(name, () => {
      const [program, ...args] = command;
      const base: Record<string, string> = {};
      // the child gets PATH/HOME and its declared env only: never the gateway's secrets or AWS keys
      for (const key of ['PATH', 'HOME', 'LANG', 'NODE_OPTIONS']) if (process.env[key]) base[key] = process.env[key];
      const params: ConstructorParameters<typeof StdioClientTransport>[0] = { command: program!, args, env: { ...base, ...env }, stderr: 'ignore' };
      if (cwd) params.cwd = cwd;
      return new StdioClientTransport(params);
    });
  }

  #client(scope: TargetCallScope): Promise<Client> {
    const key = scope.credentials.key;
    let client = this.#clients.get(key);
    if (!client) {
      if (this.#clients.size >= MAX_CLIENTS) {
        const [oldestKey, oldest] = this.#clients.entries().next().value as [string, Promise<Client>];
        this.#clients.delete(oldestKey);
        void oldest.then((c) => c.close()).catch(() => undefined);
      }
      const created = (async () => {
        const next = new Client({ name: `gatehouse-gateway/${this.name}`, version: '0.1.0' });
        await next.connect(this.#connect(scope.credentials.headers, scope.credentials.query), { timeout: Math.max(1000, scope.deadline - Date.now()) });
        next.onclose = () => {
          if (this.#clients.get(key) === created) this.#clients.delete(key);
        };
        return next;
      })();
      client = created;
      this.#clients.set(key, client);
      created.catch(() => {
        if (this.#clients.get(key) === created) this.#clients.delete(key);
      });
    }
    return client;
  }

  async listTools(scope: TargetCallScope): Promise<readonly ToolDefinition[]> {
    if (!this.#tools) {
      const loading = (async () => {
        const client = await this.#client(scope);
        const tools: ToolDefinition[] = [];
        let cursor: string | undefined;
        do {
          const page = await client.listTools(cursor ? { cursor } : {}, { signal: scope.signal });
          for (const tool of page.tools) tools.push(tool as ToolDefinition);
          cursor = page.nextCursor;
        } while (cursor);
        this.#plainTools = new Set(tools.filter(isPlainTool).map((tool) => tool.name));
        return tools;
      })();
      this.#tools = loading;
      loading.catch(() => {
        if (this.#tools === loading) this.#tools = undefined;
      });
    }
    return this.#tools;
  }

  async callTool(tool: string, args: Record<string, unknown>, scope: TargetCallScope): Promise<CallToolResult> {
    let client: Client;
    try {
      client = await this.#client(scope);
    } catch (error) {
      throw new ToolCallError('TargetFailed', `Target ${this.name} could not be reached`, { cause: error });
    }
    try {
      const pooled = this.#pooled && this.#plainTools.has(tool) ? await this.#callPooled(client, { tool, args, scope }) : undefined;
      if (pooled) return pooled;
      const result = await client.callTool({ name: tool, arguments: args }, undefined, { signal: scope.signal, timeout: Math.max(1, scope.deadline - Date.now()) });
      return result as CallToolResult;
    } catch (error) {
      // a transport failure (upstream restarted, session expired) gets a fresh client next call;
      // a JSON-RPC error from the upstream server leaves the connection as it is
      if (!(error instanceof McpError)) this.#evict(scope.credentials.key, client);
      throw error;
    }
  }

  /** The call on the pool, in the session `client` opened (undefined: answered by a redirect, for the SDK client to send). */
  #callPooled(client: Client, call: { tool: string; args: Record<string, unknown>; scope: TargetCallScope }): Promise<CallToolResult | undefined> {
    const transport = client.transport as StreamableHTTPClientTransport | undefined;
    const session = { sessionId: transport?.sessionId, protocolVersion: transport?.protocolVersion };
    return this.#pooled!.call({ tool: call.tool, args: call.args, session, credentials: call.scope.credentials, signal: call.scope.signal });
  }

  #evict(key: string, client: Client): void {
    const current = this.#clients.get(key);
    if (!current) return;
    void current.then((value) => {
      if (value === client && this.#clients.get(key) === current) {
        this.#clients.delete(key);
        void client.close().catch(() => undefined);
      }
    });
  }

  async close(): Promise<void> {
    const clients = [...this.#clients.values()];
    this.#clients.clear();
    await Promise.all(clients.map((client) => client.then((c) => c.close()).catch(() => undefined)));
    await this.#pooled?.close();
  }
}
