/** The key type the sandbox's SigV4 fronts look up: `@gatehouse/auth`'s, whose verifier they use. */
export type { SigV4Key } from '@gatehouse/auth';

/** What the sandbox reads of a verified web identity (the parts of `@gatehouse/auth`'s `Principal` it needs). */
export interface WebIdentityPrincipal {
  readonly subject: string;
  readonly username?: string | undefined;
  readonly groups: readonly string[];
  readonly issuer?: string | undefined;
  readonly claims: Readonly<Record<string, unknown>>;
}
