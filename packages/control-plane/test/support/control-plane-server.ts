import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { BedrockAgentCoreControlClient } from '@aws-sdk/client-bedrock-agentcore-control';
import type { SigV4Key } from '@gatehouse/auth';
import { closeServer, createAppServer, createLogger, EmbeddedStore, listen, parseConfig, type Platform } from '@gatehouse/core';
import { createControlPlane, type ControlPlaneService, type GatewayHost, type RuntimeHost } from '../../src/index.ts';

export const ADMIN = { accessKeyId: 'AKIAGATEHOUSEADMIN01', secretAccessKey: 'admin-secret-key-0123456789abcdefghijklm' };
/** A key that may only read runtimes: every other operation must be refused to it. */
export const READER = { accessKeyId: 'AKIAGATEHOUSEREADER1', secretAccessKey: 'reader-secret-key-0123456789abcdefghijkl' };

const keys = new Map<string, SigV4Key>([
  [ADMIN.accessKeyId, { secretAccessKey: ADMIN.secretAccessKey, principal: { subject: 'admin', arn: 'arn:aws:iam::000000000000:user/admin', permissions: ['*'] } }],
  [READER.accessKeyId, { secretAccessKey: READER.secretAccessKey, principal: { subject: 'reader', arn: 'arn:aws:iam::000000000000:user/reader', permissions: ['bedrock-agentcore:GetAgentRuntime'] } }],
]);

export const DECLARED = {
  region: 'us-east-1',
  accountId: '000000000000',
  runtimes: [{ agentRuntimeName: 'ops_agent', description: 'declared in the file', agent: { url: 'http://127.0.0.1:9/agent' } }],
  gateways: [
    {
      name: 'default',
      authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: 'https://issuer.example/.well-known/openid-configuration', allowedClients: ['web'] } },
      targets: [{ name: 'ops', targetConfiguration: { mcp: { mcpServer: { endpoint: 'https://tools.example/mcp' } } } }],
    },
  ],
};

export interface ControlPlaneServer {
  readonly url: string;
  readonly dataDir: string;
  readonly service: ControlPlaneService;
  /** Everything the control plane logged (debug level and up). */
  readonly log: () => string;
  client(credentials?: { accessKeyId: string; secretAccessKey: string }): BedrockAgentCoreControlClient;
  /** A client that adds Gatehouse's own `gatehouseAgent` field to runtime bodies (the SDK sends only AWS's fields). */
  clientWithAgent(agent: unknown): BedrockAgentCoreControlClient;
  close(): Promise<void>;
}

/** The control plane alone on a real server (port 0), over a data dir that outlives it (restart = start again on it). */
export async function startControlPlane(
  dataDir = mkdtempSync(path.join(tmpdir(), 'control-plane-')),
  options: { runtimes?: RuntimeHost; gateways?: GatewayHost; pollIntervalMs?: number; controlPlane?: Record<string, unknown> } = {},
): Promise<ControlPlaneServer> {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  const { controlPlane, ...deps } = options;
  const platform: Platform = { config: parseConfig({ ...DECLARED, ...(controlPlane ? { controlPlane } : {}) }, 'test'), dataDir, baseUrl: 'http://127.0.0.1', logger, clock: Date.now, store: new EmbeddedStore() };
  const service = await createControlPlane(platform, {
    lookupAccessKey: async (id) => keys.get(id),
    gatewayUrl: (name) => (name === 'default' ? 'http://127.0.0.1/mcp' : undefined),
    ...deps,
    env: {},
  });
  const server = createAppServer([service], logger);
  const port = await listen(server, 0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    dataDir,
    service,
    log: () => lines.join(''),
    client: (credentials = ADMIN) => new BedrockAgentCoreControlClient({ endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1 }),
    clientWithAgent(agent) {
      const client = new BedrockAgentCoreControlClient({ endpoint: url, region: 'us-east-1', credentials: ADMIN, maxAttempts: 1 });
      client.middlewareStack.add(
        (next) => async (args) => {
          const request = args.request as { body?: unknown; headers: Record<string, string> };
          const body = request.body;
          const text = body === undefined ? '' : ArrayBuffer.isView(body) ? Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8') : String(body);
          if (text.includes('agentRuntimeArtifact')) {
            const extended = JSON.stringify({ ...(JSON.parse(text) as object), gatehouseAgent: agent });
            request.body = extended;
            request.headers['content-length'] = String(Buffer.byteLength(extended));
          }
          return next(args);
        },
        { step: 'build', name: 'gatehouseAgent' },
      );
      return client;
    },
    async close() {
      await closeServer(server);
      await service.close();
    },
  };
}
