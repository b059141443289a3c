import type { CustomClaim, CustomJwtAuthorizerConfig } from '@gatehouse/core';
import { AuthError } from './auth-error.ts';

export interface ClaimRules {
  readonly issuer: string;
  readonly nowSeconds: number;
  readonly toleranceSeconds: number;
  readonly requireTokenUse: 'access' | false;
  /** An expired token still passes (its `exp` must be there): for hints such as RP-initiated logout's `id_token_hint`. */
  readonly acceptExpired?: boolean | undefined;
}

/** The rights a genuine token may lack (403): the parts of a `customJWTAuthorizer` that name who may come in. */
export type AuthorizationRules = Pick<CustomJwtAuthorizerConfig, 'allowedAudience' | 'allowedScopes' | 'customClaims'>;

const accessTypes = new Set(['jwt', 'at+jwt', 'application/at+jwt']);

function numericDate(payload: Readonly<Record<string, unknown>>, name: string): number | undefined {
  const value = payload[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new AuthError('malformed', `Claim '${name}' must be a finite number of seconds since the epoch.`, { claim: name });
  }
  return value;
}

/** Time, issuer and token kind: failures here mean the token is not one we accept at all (401). */
export function checkTokenClaims(header: Readonly<Record<string, unknown>>, payload: Readonly<Record<string, unknown>>, rules: ClaimRules): number {
  const exp = numericDate(payload, 'exp');
  if (exp === undefined) throw new AuthError('malformed', "Claim 'exp' is required; send a token that expires.", { claim: 'exp' });
  if (rules.acceptExpired !== true && rules.nowSeconds > exp + rules.toleranceSeconds) throw new AuthError('expired', 'The token has expired; obtain a new one.', { claim: 'exp' });
  const nbf = numericDate(payload, 'nbf');
  if (nbf !== undefined && nbf > rules.nowSeconds + rules.toleranceSeconds) throw new AuthError('not_yet_valid', "The token is not valid yet (claim 'nbf'); check the clocks.", { claim: 'nbf' });
  const iat = numericDate(payload, 'iat');
  if (iat !== undefined && iat > rules.nowSeconds + rules.toleranceSeconds) throw new AuthError('not_yet_valid', "The token was issued in the future (claim 'iat'); check the clocks.", { claim: 'iat' });
  if (payload.iss !== rules.issuer) throw new AuthError('wrong_issuer', "Claim 'iss' does not match the configured issuer.", { claim: 'iss' });
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw new AuthError('malformed', "Claim 'sub' is required.", { claim: 'sub' });
  if (rules.requireTokenUse === 'access') checkAccessToken(header, payload);
  return exp;
}

/**
 * Only access tokens are bearer credentials (RFC 8725 §3.12). Accepted: Cognito `token_use: "access"`,
 * RFC 9068 `typ: at+jwt`, or — for issuers that mark neither — a token carrying `client_id` or `scope`,
 * which ID tokens and JWT-shaped refresh tokens do not.
 */
function checkAccessToken(header: Readonly<Record<string, unknown>>, payload: Readonly<Record<string, unknown>>): void {
  const typ = header.typ;
  if (typ !== undefined && (typeof typ !== 'string' || !accessTypes.has(typ.toLowerCase()))) {
    throw new AuthError('wrong_token_use', "Header 'typ' names a token kind other than an access token; send an access token.", { claim: 'typ' });
  }
  const tokenUse = payload.token_use;
  if (tokenUse !== undefined) {
    if (tokenUse !== 'access') throw new AuthError('wrong_token_use', "Claim 'token_use' must be 'access'; send the access token, not the ID token.", { claim: 'token_use' });
    return;
  }
  if (typeof typ === 'string' && typ.toLowerCase() !== 'jwt') return;
  // Entra ID marks delegated access tokens with `scp` (scopes) instead of `scope`.
  if (typeof payload.client_id === 'string' || typeof payload.scope === 'string' || payload.scp !== undefined) return;
  throw new AuthError('wrong_token_use', 'The token is not marked as an access token (token_use, typ at+jwt, client_id, scope or scp); send an access token.', { claim: 'token_use' });
}

/**
 * The scopes a token grants: Cognito/RFC 8693 `scope` (space-separated), or Entra's `scp` (a
 * space-separated string, or an array as some issuers send it).
 */
export function grantedScopes(payload: Readonly<Record<string, unknown>>): string[] {
  const value = typeof payload.scope === 'string' ? payload.scope : payload.scp;
  if (typeof value === 'string') return value.split(' ').filter((scope) => scope.length > 0);
  if (Array.isArray(value)) return value.filter((scope): scope is string => typeof scope === 'string' && scope.length > 0);
  return [];
}

/** The client a token was issued to: Cognito's `client_id`, else OIDC's `azp` (Keycloak, Entra v2, Auth0). */
export function clientOf(payload: Readonly<Record<string, unknown>>): string | undefined {
  const clientId = payload.client_id ?? payload.azp;
  return typeof clientId === 'string' ? clientId : undefined;
}

/** A set of client ids that may change while the server runs (`has` is consulted on every request). */
export interface ClientAllowList {
  has(clientId: string): boolean;
}

/** Throws the refusal for a client that is not allowed, naming it (client ids are not secrets). */
export function checkClient(payload: Readonly<Record<string, unknown>>, allowed: ClientAllowList): void {
  const clientId = clientOf(payload);
  if (clientId === undefined) {
    throw new AuthError('wrong_client', "Claim 'client_id' mismatch: the token names no client (client_id or azp), and this resource allows only listed clients.", { claim: 'client_id' });
  }
  if (!allowed.has(clientId)) {
    throw new AuthError('wrong_client', `Claim 'client_id' mismatch: client ${JSON.stringify(clientId.slice(0, 128))} is not allowed here (allowedClients).`, { claim: 'client_id' });
  }
}

/** Client (`allowedClients`: the live list, or the config's, built once by the caller), audience, scopes, custom claims: the token is genuine but may lack a right (403). */
export function checkAuthorization(payload: Readonly<Record<string, unknown>>, config: AuthorizationRules, allowedClients: ClientAllowList | undefined): void {
  if (allowedClients) checkClient(payload, allowedClients);
  if (config.allowedAudience) {
    const aud = payload.aud;
    const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
    if (!audiences.some((value) => typeof value === 'string' && config.allowedAudience!.includes(value))) {
      throw new AuthError('wrong_audience', "Claim 'aud' mismatch: the token is not meant for this resource.", { claim: 'aud' });
    }
  }
  if (config.allowedScopes) {
    const granted = new Set(grantedScopes(payload));
    const missing = config.allowedScopes.filter((scope) => !granted.has(scope));
    if (missing.length > 0) {
      throw new AuthError('insufficient_scope', `Claim 'scope' lacks required scope(s): ${missing.join(' ')}.`, { claim: 'scope' });
    }
  }
  for (const rule of config.customClaims ?? []) checkCustomClaim(payload, rule);
}

function checkCustomClaim(payload: Readonly<Record<string, unknown>>, rule: CustomClaim): void {
  const name = rule.inboundTokenClaimName;
  const value = Object.hasOwn(payload, name) ? payload[name] : undefined;
  const { claimMatchOperator: operator, claimMatchValue: match } = rule.authorizingClaimMatchValue;
  const expected = 'matchValueString' in match ? [match.matchValueString] : match.matchValueStringList;
  let ok = false;
  if (rule.inboundTokenClaimValueType === 'STRING') {
    ok = typeof value === 'string' && (operator === 'EQUALS' ? value === expected[0] : expected.includes(value));
  } else if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
    const present = value as string[];
    if (operator === 'CONTAINS') ok = expected.every((item) => present.includes(item));
    else if (operator === 'CONTAINS_ANY') ok = expected.some((item) => present.includes(item));
    else ok = present.length === expected.length && present.every((item, index) => item === expected[index]);
  }
  if (!ok) throw new AuthError('claim_mismatch', `Claim '${name}' mismatch: it does not satisfy ${operator} as configured.`, { claim: name });
}
