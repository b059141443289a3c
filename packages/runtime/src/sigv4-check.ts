import type { IncomingMessage } from 'node:http';
import { AuthError, type Principal } from '@gatehouse/auth';

/** What the runtime needs from a SigV4 verifier (adapter over @gatehouse/auth's). */
export interface SigV4Check {
  verify(request: IncomingMessage, url: URL, body: Buffer): Promise<Principal>;
  verifyPresigned(request: IncomingMessage, url: URL): Promise<Principal>;
}

/** A SigV4 key as the identity service serves it. */
export interface SigV4Key {
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** Epoch seconds. */
  readonly expiresAt?: number;
  readonly principal: { readonly subject: string; readonly arn: string; readonly permissions: readonly string[] };
}

export interface SigV4CheckOptions {
  readonly region: string;
  readonly lookupAccessKey: (accessKeyId: string) => Promise<SigV4Key | undefined>;
}

/** Placeholder until @gatehouse/auth exports its SigV4 verifier: refuses every signature (fail closed). */
export function createSigV4Check(_options: SigV4CheckOptions): SigV4Check {
  const refuse = async (): Promise<Principal> => {
    throw new AuthError('signature_mismatch', 'SigV4 verification is not available in this build.');
  };
  return { verify: refuse, verifyPresigned: refuse };
}
