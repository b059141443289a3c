import type { IncomingMessage } from 'node:http';
import { createSigV4Verifier, type Principal, type SigV4Key } from '@gatehouse/auth';
import type { Clock } from '@gatehouse/core';

/** What the runtime needs from a SigV4 verifier: @gatehouse/auth's, fed from an IncomingMessage. */
export interface SigV4Check {
  verify(request: IncomingMessage, url: URL, body: Buffer): Promise<Principal>;
  verifyPresigned(request: IncomingMessage, url: URL): Promise<Principal>;
}

export interface SigV4CheckOptions {
  readonly region: string;
  readonly clock: Clock;
  readonly lookupAccessKey: (accessKeyId: string) => Promise<SigV4Key | undefined>;
}

/** AgentCore's signing name is `bedrock-agentcore`; the region is Gatehouse's configured one. */
export function createSigV4Check(options: SigV4CheckOptions): SigV4Check {
  const verifier = createSigV4Verifier({ service: 'bedrock-agentcore', region: options.region, clock: options.clock, lookupKey: options.lookupAccessKey });
  return {
    verify: (request, _url, body) => verifier.verify({ method: request.method ?? 'POST', rawPath: request.url ?? '/', headers: request.headers, body }),
    verifyPresigned: (request) => verifier.verifyPresigned({ method: request.method ?? 'GET', rawPath: request.url ?? '/', headers: request.headers }),
  };
}
