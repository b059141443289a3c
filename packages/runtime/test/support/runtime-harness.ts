import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import { EmbeddedStore, closeServer, parseSseText, type SharedStore, createAppServer, createLogger, listen, parseConfig, systemClock, type Clock, type HttpComponent, type Logger } from '@gatehouse/core';
import { createRuntime, type RuntimeDeps, type RuntimeOptions, type RuntimeService } from '../../src/index.ts';
import { startTestIssuer, type TestIssuer } from '@gatehouse/testing/test-issuer';

export const ECHO_AGENT = fileURLToPath(new URL('../../../../examples/echo-agent/agent.mjs', import.meta.url));

export interface RecordedRequest {
  readonly event: string;
  readonly pid: number;
  readonly path?: string;
  readonly headers?: Record<string, string>;
  readonly bodyBytes?: number;
}

export interface Harness {
  readonly issuer: TestIssuer;
  readonly runtime: RuntimeService;
  readonly server: Server;
  readonly baseUrl: string;
  readonly dir: string;
  readonly recordFile: string;
  readonly logs: string[];
  /** Every request the echo agent processes saw (one JSON line each), in order. */
  records(): Promise<RecordedRequest[]>;
  url(runtimeName: string, action?: string): string;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Runtime entries; `agent` defaults to the echo agent, the authorizer to the test issuer (set `authorizer: false` for SigV4). */
  readonly runtimes: readonly Record<string, unknown>[];
  readonly deps?: Partial<RuntimeDeps>;
  readonly options?: RuntimeOptions;
  readonly clock?: Clock;
  readonly issuer?: TestIssuer;
  /** Share one store between harnesses to act as several instances. */
  readonly store?: SharedStore;
  /** Announce this harness's own URL as `instanceUrl` (cluster mode). */
  readonly announceInstance?: boolean;
  /** Where the data directory is created (default: the temp dir). */
  readonly dataParent?: string;
}

/** A real one-port server with the runtime mounted, the auth test issuer and echo agents writing to a record file. */
export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const issuer = options.issuer ?? (await startTestIssuer());
  const dir = await mkdtemp(path.join(options.dataParent ?? tmpdir(), 'gatehouse-runtime-'));
  const recordFile = path.join(dir, 'agent-requests.jsonl');
  const components: HttpComponent[] = [];
  const server = createAppServer(components);
  const port = await listen(server, 0);
  const baseUrl = `http://127.0.0.1:${port}`;
  const runtimes = options.runtimes.map((entry) => {
    const { authorizer, agentEnv, ...rest } = entry as { authorizer?: unknown; agentEnv?: Record<string, string> } & Record<string, unknown>;
    return {
      agent: { command: [process.execPath, ECHO_AGENT], env: { ECHO_AGENT_RECORD: recordFile, ...agentEnv } },
      // The echo agent records into this data dir, which a namespaced agent cannot see: tests of isolation ask for it.
      isolation: { mode: 'none' },
      ...(authorizer === false ? {} : { authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: issuer.discoveryUrl, allowedClients: ['test-client'], ...(authorizer as object | undefined) } } }),
      ...rest,
    };
  });
  const logs: string[] = [];
  const destination = { write: (line: string) => logs.push(line) } as unknown as NodeJS.WritableStream;
  const logger: Logger = createLogger({ level: 'info', destination });
  const platform = {
    config: parseConfig({ runtimes }),
    dataDir: dir,
    baseUrl,
    logger,
    clock: options.clock ?? systemClock,
    store: options.store ?? new EmbeddedStore(),
  };
  let runtime: RuntimeService;
  try {
    runtime = await createRuntime(
      platform,
      { lookupAccessKey: async () => undefined, defaultWorkloadAudience: `${baseUrl}/mcp`, ...(options.announceInstance ? { instanceUrl: baseUrl } : {}), ...options.deps },
      { drainTimeoutMs: 2000, ...options.options },
    );
  } catch (error) {
    await closeServer(server);
    if (!options.issuer) await issuer.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  components.push(runtime);
  return {
    issuer,
    runtime,
    server,
    baseUrl,
    dir,
    recordFile,
    logs,
    async records() {
      const text = await readFile(recordFile, 'utf8').catch(() => '');
      return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as RecordedRequest);
    },
    url(runtimeName, action = 'invocations') {
      return `${baseUrl}/runtimes/${runtimeName}/${action}`;
    },
    async close() {
      await runtime.close();
      await closeServer(server);
      if (!options.issuer) await issuer.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const SESSION = 'x-amzn-bedrock-agentcore-runtime-session-id';

export function sessionId(label = 'a'): string {
  return `session-${label}-${'0123456789abcdef'.repeat(3)}`.slice(0, 48);
}

/** Reads an SSE body into its events ({event, data}). */
export function parseSse(text: string): { event: string; data: Record<string, unknown> }[] {
  return parseSseText(text).map(({ event, data }) => ({ event: event ?? 'message', data: JSON.parse(data) as Record<string, unknown> }));
}
