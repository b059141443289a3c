import type { IncomingMessage } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { Sha256 } from '@aws-crypto/sha256-js';

/** The secret half of an access key, looked up by its id (same shape as @gatehouse/auth's SigV4Key). */
export interface SigV4Key {
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** Epoch seconds. */
  readonly expiresAt?: number;
  readonly principal: { readonly subject: string; readonly arn: string; readonly permissions: readonly string[] };
}

export type SigV4Result = { readonly ok: true; readonly accessKeyId: string } | { readonly ok: false; readonly reason: 'missing' | 'unknown-key' | 'bad-signature' | 'expired' | 'malformed' };

/** What the Cognito admin surface needs from a SigV4 verifier; @gatehouse/auth's verifier may be passed in instead. */
export interface SigV4Verifier {
  verify(request: IncomingMessage, body: Buffer): Promise<SigV4Result>;
}

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([A-Z0-9]{16,128})\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
const MAX_SKEW_MS = 15 * 60_000;

function parseAmzDate(value: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match;
  return new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
}

/**
 * Header-signed SigV4 check: rebuilds the canonical request from only the client's SignedHeaders with
 * @smithy/signature-v4 at the client's own date, then compares signatures in constant time.
 */
export function createLocalSigV4Verifier(options: { service: string; region: string; lookupKey: (id: string) => Promise<SigV4Key | undefined>; now?: () => number }): SigV4Verifier {
  const now = options.now ?? Date.now;
  return {
    async verify(request, body) {
      const header = request.headers.authorization;
      if (typeof header !== 'string') return { ok: false, reason: 'missing' };
      const match = AUTHORIZATION.exec(header.trim());
      const amzDate = request.headers['x-amz-date'];
      if (!match || typeof amzDate !== 'string') return { ok: false, reason: 'malformed' };
      const [, accessKeyId, scopeDate, region, service, signedHeaderList, signature] = match as unknown as [string, string, string, string, string, string, string];
      const date = parseAmzDate(amzDate);
      if (!date || amzDate.slice(0, 8) !== scopeDate || region !== options.region || service !== options.service) return { ok: false, reason: 'malformed' };
      if (Math.abs(date.getTime() - now()) > MAX_SKEW_MS) return { ok: false, reason: 'expired' };
      const signedHeaders = signedHeaderList.split(';');
      if (!signedHeaders.includes('host') || !signedHeaders.includes('x-amz-date')) return { ok: false, reason: 'malformed' };
      const key = await options.lookupKey(accessKeyId);
      if (!key) return { ok: false, reason: 'unknown-key' };
      const headers: Record<string, string> = {};
      for (const name of signedHeaders) {
        const value = request.headers[name];
        if (value === undefined) return { ok: false, reason: 'malformed' };
        headers[name] = Array.isArray(value) ? value.join(',') : value;
      }
      const declared = request.headers['x-amz-content-sha256'];
      if (typeof declared === 'string' && declared !== createHash('sha256').update(body).digest('hex')) return { ok: false, reason: 'bad-signature' };
      const url = new URL(request.url ?? '/', 'http://localhost');
      const query: Record<string, string> = {};
      for (const [name, value] of url.searchParams) query[name] = value;
      const signer = new SignatureV4({
        service, region, sha256: Sha256, applyChecksum: false,
        credentials: { accessKeyId, secretAccessKey: key.secretAccessKey, ...(headers['x-amz-security-token'] ? { sessionToken: headers['x-amz-security-token'] } : {}) },
      });
      const rebuilt = new HttpRequest({ method: request.method ?? 'POST', protocol: 'http:', hostname: headers.host ?? '', path: url.pathname, query, headers, body });
      const signed = await signer.sign(rebuilt, { signingDate: date, unsignableHeaders: new Set(), signableHeaders: new Set(signedHeaders) });
      const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? ''))?.[1] ?? '';
      const ok = expected.length === 64 && timingSafeEqual(Buffer.from(expected), Buffer.from(signature));
      return ok ? { ok: true, accessKeyId } : { ok: false, reason: 'bad-signature' };
    },
  };
}
