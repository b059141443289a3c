import { createPublicKey, verify, constants, type KeyObject } from 'node:crypto';

export type JwsAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA';

/** A public key imported once, with the one algorithm it may verify. */
export interface VerificationKey {
  readonly kid: string;
  readonly alg: JwsAlgorithm;
  readonly key: KeyObject;
}

const hashByAlg: Record<JwsAlgorithm, string | null> = {
  RS256: 'sha256', RS384: 'sha384', RS512: 'sha512', PS256: 'sha256', PS384: 'sha384', PS512: 'sha512',
  ES256: 'sha256', ES384: 'sha384', ES512: 'sha512', EdDSA: null,
};

const curveByAlg: Partial<Record<JwsAlgorithm, { crv: string; size: number; order: bigint }>> = {
  ES256: { crv: 'P-256', size: 32, order: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n },
  ES384: { crv: 'P-384', size: 48, order: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n },
  ES512: { crv: 'P-521', size: 66, order: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n },
};

const defaultAlgByCurve: Record<string, JwsAlgorithm> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512', Ed25519: 'EdDSA' };

/**
 * Imports one JWK for signature verification, or returns undefined for keys we must ignore:
 * symmetric (`oct`), encryption (`use: "enc"`), private parts, unknown types, or an `alg` the key cannot do.
 * The algorithm is the key's: its `alg` member, else the only sensible default for its type.
 */
export function importVerificationKey(jwk: Record<string, unknown>): VerificationKey | undefined {
  const kid = jwk.kid;
  if (typeof kid !== 'string' || kid.length === 0) return undefined;
  if (jwk.use !== undefined && jwk.use !== 'sig') return undefined;
  if (jwk.d !== undefined) return undefined;
  let alg: JwsAlgorithm | undefined;
  if (jwk.kty === 'RSA') {
    alg = jwk.alg === undefined ? 'RS256' : (['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const).find((candidate) => candidate === jwk.alg);
  } else if (jwk.kty === 'EC' || jwk.kty === 'OKP') {
    const fromCurve = typeof jwk.crv === 'string' ? defaultAlgByCurve[jwk.crv] : undefined;
    alg = jwk.alg === undefined || jwk.alg === fromCurve ? fromCurve : undefined;
    if (jwk.kty === 'EC' && alg === 'EdDSA') alg = undefined;
    if (jwk.kty === 'OKP' && alg !== 'EdDSA') alg = undefined;
  }
  if (alg === undefined) return undefined;
  try {
    const key = createPublicKey({ key: jwk as never, format: 'jwk' });
    if (alg.startsWith('RS') || alg.startsWith('PS')) {
      if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) return undefined;
    }
    return { kid, alg, key };
  } catch {
    return undefined;
  }
}

/** Verifies a JWS signature with node:crypto directly (no per-call key import or option parsing). */
export function verifySignature(entry: VerificationKey, signingInput: Buffer, signature: Buffer): boolean {
  const curve = curveByAlg[entry.alg];
  if (curve) {
    // Raw r‖s only (JWS, RFC 7518 §3.4): DER is refused, and r,s must lie in [1, n−1] (CVE-2022-21449).
    if (signature.length !== curve.size * 2) return false;
    const r = BigInt(`0x${signature.subarray(0, curve.size).toString('hex')}`);
    const s = BigInt(`0x${signature.subarray(curve.size).toString('hex')}`);
    if (r <= 0n || s <= 0n || r >= curve.order || s >= curve.order) return false;
    return verify(hashByAlg[entry.alg], signingInput, { key: entry.key, dsaEncoding: 'ieee-p1363' }, signature);
  }
  if (entry.alg.startsWith('PS')) {
    return verify(hashByAlg[entry.alg], signingInput, { key: entry.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature);
  }
  return verify(hashByAlg[entry.alg], signingInput, entry.key, signature);
}
