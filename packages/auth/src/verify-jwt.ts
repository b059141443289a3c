import { AuthError } from './auth-error.ts';
import { checkAuthorization, checkTokenClaims, clientOf, type AuthorizationRules, type ClaimRules, type ClientAllowList } from './check-claims.ts';
import { verifySignature, type JwsAlgorithm, type VerificationKey } from './jwk-key.ts';
import { parseJwt, type ParsedJwt } from './parse-jwt.ts';

/** What a token must satisfy besides its signature: the one rule set of every JWT check in Gatehouse. */
export interface JwtRules extends ClaimRules {
  /** Algorithms accepted besides the key's own one (which always binds); omit for any the key can do. */
  readonly algorithms?: ReadonlySet<JwsAlgorithm> | undefined;
  /** Client, audience, scope and custom-claim rules (403 when unmet); omit for none. */
  readonly config?: AuthorizationRules | undefined;
  /** The allowed clients, built once by the caller (the live list, or the config's). */
  readonly allowedClients?: ClientAllowList | undefined;
}

/**
 * The core check of a parsed token against one key: algorithm (allow-list, then pinned by the key), signature with
 * node:crypto, then time, issuer and token kind (401), then client, audience, scopes and custom claims (403, naming
 * who was refused in `verified`). Returns `exp`. Throws AuthError; never reads the network or a store.
 */
export function verifyParsedJwt({ header, payload, signingInput, signature }: ParsedJwt, key: VerificationKey, rules: JwtRules): number {
  if (rules.algorithms !== undefined && !rules.algorithms.has(header.alg as JwsAlgorithm)) {
    throw new AuthError('bad_signature', `Header 'alg' must be one of ${[...rules.algorithms].join(', ')}.`);
  }
  if (header.alg !== key.alg) throw new AuthError('bad_signature', `Header 'alg' must be ${key.alg} for this key.`);
  if (!verifySignature(key, signingInput, signature)) throw new AuthError('bad_signature', 'The token signature is invalid.');
  const exp = checkTokenClaims(header, payload, rules);
  if (rules.config === undefined && rules.allowedClients === undefined) return exp;
  try {
    checkAuthorization(payload, rules.config ?? {}, rules.allowedClients);
  } catch (error) {
    if (error instanceof AuthError) error.verified = { subject: payload.sub as string, issuer: rules.issuer, clientId: clientOf(payload) };
    throw error;
  }
  return exp;
}

/** Parsed headers are shared objects (see parse-jwt), so a header that passed once need not be re-checked. */
const checkedHeaders = new WeakSet<object>();

/** Refuses headers that name their own keys or extensions, and requires `alg` and `kid` (checked once per shared header). */
export function checkJwtHeader(header: Readonly<Record<string, unknown>>): void {
  if (checkedHeaders.has(header)) return;
  // Keys named by the token itself are never trusted (RFC 8725 §3.1): refuse rather than ignore, so misuse is visible.
  for (const member of ['jku', 'x5u', 'jwk', 'x5c', 'x5t', 'x5t#S256'] as const) {
    if (member in header) throw new AuthError('malformed', `Header '${member}' is not accepted; keys come from the issuer's JWKS only.`);
  }
  if ('crit' in header) throw new AuthError('malformed', "Header 'crit' names extensions this server does not understand.");
  if (typeof header.alg !== 'string') throw new AuthError('malformed', "Header 'alg' is required.");
  if (typeof header.kid !== 'string' || header.kid.length === 0 || header.kid.length > 256) {
    throw new AuthError('malformed', "Header 'kid' is required and names one of the issuer's signing keys.");
  }
  checkedHeaders.add(header);
}

/**
 * The whole check for an issuer whose keys the caller already holds (e.g. identity verifying its own tokens):
 * strict parse → header → key by `kid` among `keys` → `verifyParsedJwt`. Returns the verified claims and `exp`.
 */
export function verifyJwt(token: string, keys: readonly VerificationKey[], rules: JwtRules): { readonly claims: Readonly<Record<string, unknown>>; readonly exp: number } {
  const parsed = parseJwt(token);
  checkJwtHeader(parsed.header);
  const key = keys.find((candidate) => candidate.kid === parsed.header.kid);
  if (key === undefined) throw new AuthError('unknown_key', "Header 'kid' names no signing key of the issuer.");
  return { claims: parsed.payload, exp: verifyParsedJwt(parsed, key, rules) };
}
