import { createHmac, timingSafeEqual } from 'node:crypto';
import { CognitoError } from './cognito-error.ts';
import type { ClientRecord } from './user-store.ts';

export function constantTimeEqual(left: string, right: string): boolean {
  const a = Buffer.from(left, 'utf8');
  const b = Buffer.from(right, 'utf8');
  // compare equal-length buffers either way so the length difference is the only thing that leaks
  return timingSafeEqual(a.length === b.length ? a : b, b) && a.length === b.length;
}

export function secretHash(secret: string, username: string, clientId: string): string {
  return createHmac('sha256', secret).update(`${username}${clientId}`, 'utf8').digest('base64');
}

/** SECRET_HASH rule of Cognito for clients with a secret; public clients need none. Any of `usernames` may be the signed one. */
export function checkSecretHash(client: ClientRecord, usernames: readonly string[], given: string | undefined): void {
  if (!client.secret) return;
  if (given === undefined || given === '') throw new CognitoError('NotAuthorizedException', `Client ${client.id} is configured for secret but secret was not received`);
  const ok = usernames.some((username) => constantTimeEqual(secretHash(client.secret!, username, client.id), given));
  if (!ok) throw new CognitoError('NotAuthorizedException', `Unable to verify secret hash for client ${client.id}`);
}
