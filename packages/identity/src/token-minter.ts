import { createHash, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { KeyStore } from './key-store.ts';
import { isUserAttributeName } from './user-attributes.ts';

export interface TokenSubject {
  readonly sub: string;
  readonly username: string;
  readonly groups: readonly string[];
  readonly attributes: Readonly<Record<string, string>>;
}

export interface AccessTokenRequest {
  readonly poolId: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly subject: TokenSubject | undefined;
  readonly scope: string;
  readonly authTime: number;
  readonly originJti: string;
  readonly lifetimeSeconds: number;
  readonly audience?: string | readonly string[] | undefined;
  readonly act?: Record<string, unknown> | undefined;
  /** For exchanged tokens: keep the subject's own client and groups. */
  readonly extraClaims?: Record<string, unknown> | undefined;
}

export interface IdTokenRequest {
  readonly poolId: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly subject: TokenSubject;
  readonly authTime: number;
  readonly originJti: string;
  readonly lifetimeSeconds: number;
  readonly nonce?: string | undefined;
  readonly accessToken?: string | undefined;
}

/** Signs Cognito-shaped access and ID tokens with the pool's current keys (one signer for every grant). */
export class TokenMinter {
  readonly #keys: KeyStore;
  readonly #now: () => number;
  constructor(keys: KeyStore, now: () => number) {
    this.#keys = keys;
    this.#now = now;
  }

  async access(request: AccessTokenRequest): Promise<{ token: string; jti: string; expiresIn: number }> {
    const key = await this.#keys.active(request.poolId, 'access');
    const iat = Math.floor(this.#now() / 1000);
    const jti = randomUUID();
    const claims: Record<string, unknown> = { sub: request.subject?.sub ?? request.clientId };
    if (request.subject && request.subject.groups.length > 0) claims['cognito:groups'] = [...request.subject.groups];
    if (request.audience !== undefined) claims.aud = typeof request.audience === 'string' ? request.audience : [...request.audience];
    Object.assign(claims, {
      iss: request.issuer,
      client_id: request.clientId,
      origin_jti: request.originJti,
      event_id: randomUUID(),
      token_use: 'access',
      scope: request.scope,
      auth_time: request.authTime,
      exp: iat + request.lifetimeSeconds,
      iat,
      jti,
    });
    if (request.subject) claims.username = request.subject.username;
    if (request.extraClaims) Object.assign(claims, request.extraClaims);
    if (request.act) claims.act = request.act;
    const token = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid }).sign(key.privateKey);
    return { token, jti, expiresIn: request.lifetimeSeconds };
  }

  async id(request: IdTokenRequest): Promise<string> {
    const key = await this.#keys.active(request.poolId, 'id');
    const iat = Math.floor(this.#now() / 1000);
    const { subject } = request;
    const claims: Record<string, unknown> = { sub: subject.sub };
    if (subject.groups.length > 0) claims['cognito:groups'] = [...subject.groups];
    // Defence in depth: a stored attribute that is not a user attribute (a row written before names were checked,
    // or by hand) never reaches a token, and none can stand in for a claim the minter owns.
    for (const [name, value] of Object.entries(subject.attributes)) {
      if (!isUserAttributeName(name) || Object.hasOwn(claims, name)) continue;
      claims[name] = name === 'email_verified' || name === 'phone_number_verified' ? value === 'true' : value;
    }
    Object.assign(claims, {
      iss: request.issuer,
      'cognito:username': subject.username,
      origin_jti: request.originJti,
      aud: request.clientId,
      event_id: randomUUID(),
      token_use: 'id',
      auth_time: request.authTime,
      exp: iat + request.lifetimeSeconds,
      iat,
      jti: randomUUID(),
    });
    if (request.nonce !== undefined) claims.nonce = request.nonce;
    if (request.accessToken !== undefined) claims.at_hash = createHash('sha256').update(request.accessToken, 'ascii').digest().subarray(0, 16).toString('base64url');
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid }).sign(key.privateKey);
  }
}
