import { randomBytes, randomUUID } from 'node:crypto';
import { validationError } from './runtime-error.ts';

export const SESSION_HEADER = 'x-amzn-bedrock-agentcore-runtime-session-id';
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/**
 * The session id a request names, or a fresh one. AgentCore requires 33–256 characters; we also
 * require visible ASCII because the id travels in headers and store keys.
 */
export function resolveSessionId(value: string | undefined, field = 'runtimeSessionId'): { sessionId: string; created: boolean } {
  if (value === undefined) return { sessionId: newSessionId(), created: true };
  checkSessionId(value, field);
  return { sessionId: value, created: false };
}

export function checkSessionId(value: string, field = 'runtimeSessionId'): void {
  if (value.length < 33 || value.length > 256) {
    throw validationError(field, `Session id must be 33–256 characters (got ${value.length})`);
  }
  if (!VISIBLE_ASCII.test(value)) throw validationError(field, 'Session id must contain only visible ASCII characters (no spaces)');
}

/** A UUID plus a random suffix: 45 characters, above AgentCore's 33-character minimum. */
export function newSessionId(): string {
  return `${randomUUID()}-${randomBytes(4).toString('hex')}`;
}
