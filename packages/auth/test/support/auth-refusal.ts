import assert from 'node:assert/strict';
import { AuthError } from '../../src/auth-error.ts';

/** The AuthError a verification must end in; anything else (a pass, another error) fails the test. */
export async function refusal(promise: Promise<unknown>): Promise<AuthError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  assert.ok(error instanceof AuthError, `expected an AuthError, got ${String(error)}`);
  return error;
}
