import { Pool } from 'undici';

/** Where an agent listens: a TCP host and port, or a Unix socket (an agent in its own network namespace). */
export type AgentAddress = { readonly host: string; readonly port: number } | { readonly socketPath: string };

/**
 * The keep-alive connection pool of one agent: every invocation of its sessions reuses these
 * connections (undici, no per-request agent bookkeeping). The origin of a Unix-socket agent is a
 * placeholder; the connection goes to the socket.
 */
export function createAgentPool(address: AgentAddress): Pool {
  if ('socketPath' in address) return new Pool('http://agent.localhost', { connect: { socketPath: address.socketPath } });
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return new Pool(`http://${host}:${address.port}`);
}
