import { createHash } from 'node:crypto';
import { constantTimeEqual } from './client-secret.ts';

/** RFC 7636 verifier: 43–128 characters of the unreserved set. */
export const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
/** An S256 challenge is base64url of a SHA-256: exactly 43 characters. */
export const CODE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** S256 only: `plain` would let a stolen code be redeemed with the challenge itself. */
export function checkPkce(challenge: string, verifier: string): boolean {
  if (!CODE_VERIFIER.test(verifier)) return false;
  return constantTimeEqual(createHash('sha256').update(verifier, 'ascii').digest('base64url'), challenge);
}
