import { checkScope, checkSignedHeaders, resolveKey, signerFor, verification, type SigV4Context } from './sigv4-checks.ts';
import { AuthError } from './auth-error.ts';
import { mismatch, parsePresignedSignature, parseQuery, pickHeaders, presignParameters, safeEqual, splitRawPath, UNSIGNED_PAYLOAD } from './sigv4-parse.ts';
import type { SigV4Key, SigV4Request, SigV4Verification } from './sigv4-verifier.ts';

/** Query form (presigned URL), in order: parse → scope → signed headers → validity window → key → rebuild and compare. */
export async function verifyPresignedSignature<K extends SigV4Key>(context: SigV4Context<K>, request: SigV4Request): Promise<SigV4Verification<K>> {
  const { path, rawQuery } = splitRawPath(request.rawPath);
  const query = parseQuery(rawQuery);
  const { parsed, expires } = parsePresignedSignature(query, context.maxPresignExpirySeconds);
  checkScope(context, parsed);
  checkSignedHeaders(parsed.signedHeaders, request.headers, ['host']);
  const now = context.clock();
  if (now < parsed.signingDate.getTime() - context.maxSkewSeconds * 1000) {
    throw new AuthError('clock_skew', 'The presigned URL is not valid yet: X-Amz-Date is in the future.');
  }
  if (now > parsed.signingDate.getTime() + expires * 1000) throw new AuthError('expired', 'The presigned URL has expired; presign a new one.', { status: 403 });
  const key = await resolveKey(context, parsed);
  const rest: Record<string, string | string[]> = {};
  for (const [name, values] of query) {
    if (!presignParameters.includes(name)) rest[name] = values.length === 1 ? values[0]! : values;
  }
  const signer = signerFor(context, parsed, key);
  const { signedHeaders, signingDate } = parsed;
  const signedSet = new Set(signedHeaders);
  // The AWS SDK v3 (smithy) presigns the empty-body hash; botocore presigns UNSIGNED-PAYLOAD. Accept either.
  for (const payloadHash of [undefined, UNSIGNED_PAYLOAD]) {
    const headers = pickHeaders(request.headers, signedHeaders);
    if (payloadHash !== undefined) headers['x-amz-content-sha256'] = payloadHash;
    const presigned = await signer.presign(
      { method: request.method.toUpperCase(), protocol: 'https:', hostname: String(request.headers.host), path, query: { ...rest }, headers, ...(request.body ? { body: request.body } : {}) },
      {
        signingDate,
        expiresIn: expires,
        signableHeaders: signedSet,
        unsignableHeaders: new Set(payloadHash !== undefined && !signedSet.has('x-amz-content-sha256') ? ['x-amz-content-sha256'] : []),
        unhoistableHeaders: new Set([...signedHeaders, 'x-amz-content-sha256']),
      },
    );
    const expected = presigned.query?.['X-Amz-Signature'];
    if (typeof expected === 'string' && safeEqual(expected, parsed.signature)) return verification(parsed, key, 'presigned');
  }
  throw mismatch();
}
