import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { EmbeddedStore, closeServer, configSchema, createAppServer, createLogger, gatewaySchema, listen, systemClock, type HttpComponent, type Platform } from '@gatehouse/core';
import { createGateway, type GatewayDeps, type GatewayService } from '@gatehouse/gateway';

export interface GatewayStack {
  readonly baseUrl: string;
  readonly dataDir: string;
  readonly gateway: GatewayService;
  readonly store: EmbeddedStore;
  /** Everything the gateway logged (to assert that tokens never appear). */
  readonly logs: () => string;
  close(): Promise<void>;
}

/** The gateway on the real one-port app server (127.0.0.1:0), with a fresh data dir and shared store. */
export async function startGatewayStack(gateways: readonly unknown[], deps: Omit<GatewayDeps, 'gateways'> = {}, shared: { store?: EmbeddedStore; dataDir?: string } = {}): Promise<GatewayStack> {
  const dataDir = shared.dataDir ?? mkdtempSync(path.join(tmpdir(), 'gatehouse-gateway-'));
  const components: HttpComponent[] = [];
  const server = createAppServer(components);
  const port = await listen(server, 0);
  const baseUrl = `http://127.0.0.1:${port}`;
  let logText = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logText += chunk.toString('utf8');
      callback();
    },
  });
  const store = shared.store ?? new EmbeddedStore();
  const platform: Platform = {
    config: configSchema.parse({}),
    dataDir,
    baseUrl,
    logger: createLogger({ level: 'info', destination }),
    clock: systemClock,
    store,
  };
  const gateway = await createGateway(platform, { ...deps, gateways: gateways.map((config) => gatewaySchema.parse(config)) });
  components.push(gateway);
  return {
    baseUrl,
    dataDir,
    gateway,
    store,
    logs: () => logText,
    async close() {
      await gateway.close();
      await closeServer(server);
      if (!shared.store) await store.close();
      if (!shared.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The official MCP SDK client with a bearer token on every request. */
export async function connectClient(url: string, token: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  const client = new Client({ name: 'gateway-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

/** A small HTTP server on 127.0.0.1:0 recording every request it receives. */
export function serverUrl(address: AddressInfo | string | null): string {
  if (!address || typeof address === 'string') throw new Error('server not listening');
  return `http://127.0.0.1:${address.port}`;
}

export function rpc(method: string, params: Record<string, unknown> = {}, id = 1): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method, params });
}

export const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' } as const;

export const INITIALIZE = { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } };
