/**
 * Structural copies of `@gatehouse/auth`'s `SigV4Key` and `Principal` (the parts the sandbox reads),
 * so this package type-checks on its own; the auth package's values are assignable to them.
 */
export interface SigV4Key {
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
  /** Epoch seconds. */
  readonly expiresAt?: number | undefined;
  readonly principal: { readonly subject: string; readonly arn: string; readonly permissions: readonly string[] };
}

export interface WebIdentityPrincipal {
  readonly subject: string;
  readonly username?: string | undefined;
  readonly groups: readonly string[];
  readonly issuer?: string | undefined;
  readonly claims: Readonly<Record<string, unknown>>;
}
