import type { IncomingHttpHeaders } from 'node:http';
import { systemClock, type Clock } from '@gatehouse/core';
import { z } from 'zod';
import { AuthError } from './auth-error.ts';
import type { Principal } from './principal.ts';
import type { SigV4Context } from './sigv4-checks.ts';
import { malformed, presignMarker, splitRawPath } from './sigv4-parse.ts';
import { verifyHeaderSignature } from './sigv4-verify-header.ts';
import { verifyPresignedSignature } from './sigv4-verify-presigned.ts';

export interface SigV4Key {
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
  /** Epoch seconds; temporary credentials are refused after it. */
  readonly expiresAt?: number | undefined;
  readonly principal: { readonly subject: string; readonly arn: string; readonly permissions: readonly string[] };
}

/**
 * Which credential-scope regions a verifier accepts: one region, a list, or `'*'` for any (the signature
 * covers the region, so any is safe where the server has no region of its own, like the local sandbox).
 */
export type SigV4RegionPolicy = string | readonly string[];

export interface SigV4VerifierOptions<K extends SigV4Key = SigV4Key> {
  service: string;
  region: SigV4RegionPolicy;
  /** The key may carry extra fields (who the caller is); `authenticate` hands it back unchanged. */
  lookupKey(accessKeyId: string): Promise<K | undefined>;
  clock?: Clock;
  /** Default 300 (IAM's 5 minutes). */
  maxSkewSeconds?: number;
  /** Default 3600. */
  maxPresignExpirySeconds?: number;
}

export interface SigV4Request {
  method: string;
  /** Path and query exactly as received, e.g. `request.url`. */
  rawPath: string;
  headers: IncomingHttpHeaders;
  /** The whole body; undefined is an empty body (or UNSIGNED-PAYLOAD where the service allows it: S3). */
  body?: Uint8Array;
}

/** `either`: the header form when `Authorization` is sent, else the query form (S3 takes both, never together). */
export type SigV4Form = 'header' | 'presigned' | 'either';

export interface SigV4Verification<K extends SigV4Key = SigV4Key> {
  readonly principal: Principal;
  /** What `lookupKey` returned, extra fields included. Holds the secret: never log it. */
  readonly key: K;
  readonly accessKeyId: string;
  /** The credential scope's region (within the policy). */
  readonly region: string;
  readonly form: 'header' | 'presigned';
}

export interface SigV4Verifier<K extends SigV4Key = SigV4Key> {
  /** Header form: `Authorization: AWS4-HMAC-SHA256 …`. */
  verify(request: SigV4Request): Promise<Principal>;
  /** Query form (presigned URL), e.g. a WebSocket upgrade. */
  verifyPresigned(request: SigV4Request): Promise<Principal>;
  /** Same checks as `verify` / `verifyPresigned` (default `header`), returning the looked-up key and scope too. */
  authenticate(request: SigV4Request, form?: SigV4Form): Promise<SigV4Verification<K>>;
}

const regionName = z.string().regex(/^[a-z0-9-]{1,64}$/, 'A region is 1–64 lower-case letters, digits or hyphens (e.g. us-east-1)');
const optionsSchema = z.object({
  service: z.string().regex(/^[a-z0-9-]{1,64}$/),
  region: z.union([
    z.literal('*'),
    regionName,
    z.array(regionName).min(1, 'List at least one region, or use "*" for any').max(64)
      .refine((regions) => new Set(regions).size === regions.length, 'Each region may be listed once'),
  ]),
  maxSkewSeconds: z.number().int().min(1).max(900).default(300),
  maxPresignExpirySeconds: z.number().int().min(1).max(604_800).default(3600),
});

/** The region policy as the two things a request needs from it: a test, and a refusal that names what to use. */
function regionChecks(regionPolicy: SigV4RegionPolicy): Pick<SigV4Context, 'regionAllowed' | 'wrongRegion'> {
  const regionAllowed = (candidate: string): boolean =>
    regionPolicy === '*' || (typeof regionPolicy === 'string' ? candidate === regionPolicy : regionPolicy.includes(candidate));
  const regionRule = typeof regionPolicy === 'string' ? `'${regionPolicy}'` : `one of ${regionPolicy.map((name) => `'${name}'`).join(', ')}`;
  const suggested = typeof regionPolicy === 'string' ? regionPolicy : regionPolicy[0]!;
  // The one wording every SigV4 surface answers with (Cognito admin, runtime, AgentCore Identity): the
  // signature covers the region, so a client set to another region can only be told which one to use.
  const wrongRegion = (signed: string): AuthError =>
    new AuthError(
      'wrong_region',
      `Credential should be scoped to a valid region: the request was signed for region '${signed}', but this server signs for ${regionRule}. ` +
        `Set the client's region to '${suggested}' (AWS_REGION=${suggested}, --region ${suggested}, or region: '${suggested}' in the SDK).`,
    );
  return { regionAllowed, wrongRegion };
}

/** S3's rule for `'either'`: the header form when Authorization is sent, else the query form; never both. */
function authenticateEither<K extends SigV4Key>(context: SigV4Context<K>, request: SigV4Request): Promise<SigV4Verification<K>> {
  const { rawQuery } = splitRawPath(request.rawPath);
  const queryAuth = presignMarker.test(rawQuery);
  if (request.headers.authorization !== undefined) {
    // Two credentials could name two different callers; S3 refuses the mix too.
    if (queryAuth) throw malformed('Send either the Authorization header or a presigned query (X-Amz-Signature…), not both.');
    return verifyHeaderSignature(context, request);
  }
  if (queryAuth) return verifyPresignedSignature(context, request);
  throw new AuthError('missing', 'Request is missing Authentication Token: sign it with AWS SigV4 (Authorization header or presigned URL).', { status: 403 });
}

/**
 * Server-side SigV4 (REFERENCE §5). Parses strictly (`sigv4-parse.ts`), checks scope, time and key, hashes the
 * body (`sigv4-checks.ts`), then rebuilds the signature with @smithy/signature-v4 — the signer the AWS SDK v3
 * uses — from only the headers the client signed, and compares in constant time (`sigv4-verify-header.ts`,
 * `sigv4-verify-presigned.ts`).
 */
export function createSigV4Verifier<K extends SigV4Key = SigV4Key>(options: SigV4VerifierOptions<K>): SigV4Verifier<K> {
  const settings = optionsSchema.parse({
    service: options.service,
    region: options.region,
    maxSkewSeconds: options.maxSkewSeconds,
    maxPresignExpirySeconds: options.maxPresignExpirySeconds,
  });
  const context: SigV4Context<K> = {
    service: settings.service,
    maxSkewSeconds: settings.maxSkewSeconds,
    maxPresignExpirySeconds: settings.maxPresignExpirySeconds,
    clock: options.clock ?? systemClock,
    lookupKey: (accessKeyId) => options.lookupKey(accessKeyId),
    ...regionChecks(settings.region),
  };
  return {
    async verify(request: SigV4Request): Promise<Principal> {
      return (await verifyHeaderSignature(context, request)).principal;
    },
    async verifyPresigned(request: SigV4Request): Promise<Principal> {
      return (await verifyPresignedSignature(context, request)).principal;
    },
    async authenticate(request: SigV4Request, form: SigV4Form = 'header'): Promise<SigV4Verification<K>> {
      if (form === 'header') return verifyHeaderSignature(context, request);
      if (form === 'presigned') return verifyPresignedSignature(context, request);
      return authenticateEither(context, request);
    },
  };
}
