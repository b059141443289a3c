import type { IncomingMessage } from 'node:http';
import { AuthError, createSigV4Verifier, type AuthFailureReason, type SigV4Form } from '@gatehouse/auth';
import { S3Error, type S3ErrorCode } from './s3-error.ts';
import { StsError, type StsErrorCode } from './sts-error.ts';
import type { SandboxCredentialStore, TemporaryCredential } from './sandbox-credential-store.ts';
import type { SigV4Key } from './sandbox-key.ts';

/** Who signed a sandbox request: a session this STS issued, or an admin key of the central account. */
export type SandboxCaller =
  | { readonly kind: 'temporary'; readonly accessKeyId: string; readonly credential: TemporaryCredential }
  | { readonly kind: 'admin'; readonly accessKeyId: string; readonly key: SigV4Key };

/** A key as the sandbox fronts look it up: the signing secret plus who the caller is. */
type SandboxKey = SigV4Key & { readonly caller: SandboxCaller };

/**
 * The one table from a refusal of `@gatehouse/auth`'s SigV4 verifier to each sandbox surface's error name.
 * STS has no finer names for a wrong or missing session token (`InvalidClientTokenId`) or a wrong body hash
 * (`SignatureDoesNotMatch`); S3 answers an expired presigned URL with AccessDenied and names those two more
 * finely (see `s3ErrorFor`). The JWT-only reasons never come from the SigV4 verifier; they are mapped so the
 * table is total.
 */
const AUTH_TO_CODE: Record<AuthFailureReason, { readonly sts: StsErrorCode; readonly s3: S3ErrorCode }> = {
  missing: { sts: 'MissingAuthenticationToken', s3: 'AccessDenied' },
  malformed: { sts: 'IncompleteSignature', s3: 'AccessDenied' },
  unknown_access_key: { sts: 'InvalidClientTokenId', s3: 'InvalidAccessKeyId' },
  signature_mismatch: { sts: 'SignatureDoesNotMatch', s3: 'SignatureDoesNotMatch' },
  clock_skew: { sts: 'RequestExpired', s3: 'RequestTimeTooSkewed' },
  expired: { sts: 'RequestExpired', s3: 'AccessDenied' },
  expired_credentials: { sts: 'ExpiredTokenException', s3: 'ExpiredToken' },
  bad_signature: { sts: 'SignatureDoesNotMatch', s3: 'SignatureDoesNotMatch' },
  not_yet_valid: { sts: 'RequestExpired', s3: 'AccessDenied' },
  unknown_key: { sts: 'InvalidClientTokenId', s3: 'InvalidAccessKeyId' },
  revoked: { sts: 'InvalidClientTokenId', s3: 'AccessDenied' },
  method_mismatch: { sts: 'IncompleteSignature', s3: 'AccessDenied' },
  wrong_issuer: { sts: 'AccessDenied', s3: 'AccessDenied' },
  wrong_client: { sts: 'AccessDenied', s3: 'AccessDenied' },
  wrong_audience: { sts: 'AccessDenied', s3: 'AccessDenied' },
  wrong_token_use: { sts: 'AccessDenied', s3: 'AccessDenied' },
  insufficient_scope: { sts: 'AccessDenied', s3: 'AccessDenied' },
  claim_mismatch: { sts: 'AccessDenied', s3: 'AccessDenied' },
  issuer_unavailable: { sts: 'InternalFailure', s3: 'ServiceUnavailable' },
  wrong_region: { sts: 'SignatureDoesNotMatch', s3: 'AccessDenied' },
};

export function stsErrorFor(error: AuthError): StsError {
  return new StsError(AUTH_TO_CODE[error.code].sts, error.message);
}

/** S3 names two refusals more finely than the verifier's codes: a bad session token and a wrong body hash. */
export function s3ErrorFor(error: AuthError): S3Error {
  if (error.detail === 'session_token') return new S3Error('InvalidToken', error.message);
  if (error.detail === 'content_sha256') return new S3Error('XAmzContentSHA256Mismatch', error.message);
  return new S3Error(AUTH_TO_CODE[error.code].s3, error.message);
}

export interface SandboxSigV4Options {
  readonly service: 'sts' | 's3';
  readonly store: SandboxCredentialStore;
  readonly lookupAccessKey: (accessKeyId: string) => Promise<SigV4Key | undefined>;
  readonly now: () => number;
  /** The session ARN of a temporary credential (`assumedRoleArn`). */
  readonly sessionArn: (credential: TemporaryCredential) => string;
}

/**
 * The one SigV4 front of the sandbox: any region (clients sign with whatever region they are configured for,
 * often 'local', and the signature covers it), 15 minutes of skew as AWS SDKs expect, sessions this STS issued
 * looked up first and admin keys second. STS takes the header form only, S3 also presigned URLs up to 7 days.
 * A refusal is thrown as the surface's own error, through the one table above.
 */
export function createSandboxSigV4(options: SandboxSigV4Options) {
  const verifier = createSigV4Verifier<SandboxKey>({
    service: options.service,
    region: '*',
    maxSkewSeconds: 900,
    ...(options.service === 's3' ? { maxPresignExpirySeconds: 604_800 } : {}),
    clock: options.now,
    lookupKey: async (accessKeyId) => {
      const credential = await options.store.find(accessKeyId);
      if (credential) {
        return {
          secretAccessKey: credential.secretAccessKey,
          sessionToken: credential.sessionToken,
          expiresAt: credential.expiresAt,
          principal: { subject: credential.user.sub, arn: options.sessionArn(credential), permissions: [] },
          caller: { kind: 'temporary', accessKeyId, credential },
        };
      }
      const key = await options.lookupAccessKey(accessKeyId);
      return key ? { ...key, caller: { kind: 'admin', accessKeyId, key } } : undefined;
    },
  });
  const form: SigV4Form = options.service === 's3' ? 'either' : 'header';
  const refusal = options.service === 's3' ? s3ErrorFor : stsErrorFor;
  return {
    async authenticate(request: IncomingMessage, body: Buffer): Promise<SandboxCaller> {
      try {
        const verified = await verifier.authenticate({ method: request.method ?? (options.service === 's3' ? 'GET' : 'POST'), rawPath: request.url ?? '/', headers: request.headers, body }, form);
        return verified.key.caller;
      } catch (error) {
        if (error instanceof AuthError) throw refusal(error);
        throw error;
      }
    },
  };
}
