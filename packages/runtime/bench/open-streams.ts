// Load generator for the open-streams measurement, in its own process (its sockets and heap are not
// the runtime's). Argument: JSON {port, token, count, runtimes}. Opens `count` SSE invocations through
// the runtime on loopback, spread over source addresses 127.0.0.1–127.0.0.N so no source runs out of
// ephemeral ports, and over the `runtimes` (each reaching its own agent). Prints one JSON line
// {opened, failed} once every stream has sent its first event (or after 120 s), then holds them open
// until stdin closes. Bounded: loopback only, `count` connections, nothing retried.
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';

const input = JSON.parse(process.argv[2] ?? '{}') as { port: number; token: string; count: number; runtimes: string[] };
const PER_SOURCE = 20_000;
const SESSION = 'x-amzn-bedrock-agentcore-runtime-session-id';
const body = JSON.stringify({ prompt: 'held open', chunks: 1000, delayMs: 60_000 });
const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
const requests: ReturnType<typeof request>[] = [];
let opened = 0;
let failed = 0;
let reported = false;
const report = (): void => {
  if (reported) return;
  reported = true;
  process.stdout.write(`${JSON.stringify({ opened, failed })}\n`);
};
const check = (): void => {
  if (opened + failed === input.count) report();
};
/** At most this many handshakes in flight, so the runtime's accept queue is never the limit. */
const IN_FLIGHT = 256;
let next = 0;
let pending = 0;
function openMore(): void {
  while (pending < IN_FLIGHT && next < input.count) {
    const index = next++;
    pending++;
    let counted = false;
    const settle = (ok: boolean): void => {
      if (counted) return;
      counted = true;
      pending--;
      if (ok) opened++;
      else failed++;
      check();
      openMore();
    };
    const runtime = input.runtimes[index % input.runtimes.length]!;
    const outgoing = request(
      {
        host: '127.0.0.1',
        port: input.port,
        localAddress: `127.0.0.${1 + Math.floor(index / PER_SOURCE)}`,
        path: `/runtimes/${runtime}/invocations`,
        method: 'POST',
        agent,
        headers: { authorization: `Bearer ${input.token}`, accept: 'text/event-stream', [SESSION]: 'bench-streams-shared-session-0000000000' },
      },
      (response) => {
        if (response.statusCode !== 200) settle(false);
        response.once('data', () => settle(true));
        response.on('error', () => settle(false));
      },
    );
    outgoing.on('error', () => settle(false));
    outgoing.end(body);
    requests.push(outgoing);
  }
}
openMore();
check();
setTimeout(report, 120_000).unref();
createInterface({ input: process.stdin }).on('close', () => {
  for (const outgoing of requests) outgoing.destroy();
  agent.destroy();
  process.exit(0);
});
