import { checkBodyHash, checkScope, checkSignedHeaders, resolveKey, signerFor, verification, type SigV4Context } from './sigv4-checks.ts';
import { AuthError } from './auth-error.ts';
import { mismatch, parseHeaderSignature, parseQuery, pickHeaders, safeEqual, splitRawPath } from './sigv4-parse.ts';
import type { SigV4Key, SigV4Request, SigV4Verification } from './sigv4-verifier.ts';

/** Header form, in order: parse → scope → signed headers → skew → body hash → key → rebuild and compare. */
export async function verifyHeaderSignature<K extends SigV4Key>(context: SigV4Context<K>, request: SigV4Request): Promise<SigV4Verification<K>> {
  const { parsed, contentSha256 } = parseHeaderSignature(request.headers);
  checkScope(context, parsed);
  checkSignedHeaders(parsed.signedHeaders, request.headers, [
    'host', 'x-amz-date',
    ...(parsed.sessionToken !== undefined ? ['x-amz-security-token'] : []),
    ...(contentSha256 !== undefined ? ['x-amz-content-sha256'] : []),
  ]);
  if (Math.abs(context.clock() - parsed.signingDate.getTime()) > context.maxSkewSeconds * 1000) {
    throw new AuthError('clock_skew', `Signature not yet current or expired: X-Amz-Date must be within ${context.maxSkewSeconds} s of the server time.`);
  }
  const body = request.body ?? new Uint8Array();
  checkBodyHash(context, contentSha256, body);
  const key = await resolveKey(context, parsed);
  const { path, rawQuery } = splitRawPath(request.rawPath);
  const query: Record<string, string | string[]> = {};
  for (const [name, values] of parseQuery(rawQuery)) query[name] = values.length === 1 ? values[0]! : values;
  const signed = await signerFor(context, parsed, key).sign(
    {
      method: request.method.toUpperCase(),
      protocol: 'https:',
      hostname: String(request.headers.host),
      path,
      query,
      headers: pickHeaders(request.headers, parsed.signedHeaders),
      body,
    },
    { signingDate: parsed.signingDate, signableHeaders: new Set(parsed.signedHeaders) },
  );
  const expected = /Signature=([0-9a-f]{64})$/.exec(String(signed.headers.authorization ?? signed.headers.Authorization ?? ''))?.[1] ?? '';
  if (!safeEqual(expected, parsed.signature)) throw mismatch();
  return verification(parsed, key, 'header');
}
