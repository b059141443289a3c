import type { IncomingMessage, ServerResponse } from 'node:http';
import { failureFor, readBodyFor, sendWire, type FailureTable, type WireResponse } from '@gatehouse/core';
import { CognitoError } from './cognito-error.ts';
import type { IdentityContext } from './identity-context.ts';
import { AuthError, type SigV4Verifier } from '@gatehouse/auth';
import { userOperations } from './user-operations.ts';
import { adminOperations } from './admin-operations.ts';
import { accountOperations, adminAccountOperations } from './account-operations.ts';
import { poolOperations } from './pool-operations.ts';
import { groupOperations } from './group-operations.ts';

const TARGET_PREFIX = 'AWSCognitoIdentityProviderService.';
const MAX_BODY = 256 * 1024;

/** The Cognito surface's answers to internal failures. */
const COGNITO_FAILURES: FailureTable<CognitoError> = {
  bodyTooLarge: () => new CognitoError('InvalidParameterException', `Request body exceeds ${MAX_BODY} bytes`),
  // Cognito has no 503 error name; InternalErrorException is what its SDKs retry.
  storeUnavailable: () =>
    new CognitoError('InternalErrorException', 'The change is saved but could not yet be shared with other instances (shared store unavailable); it is shared when the store returns. Retry to confirm.', { expose: true }),
  // Fail closed: nothing was decided without the database; the SDKs retry a 503.
  databaseUnavailable: () => new CognitoError('ServiceUnavailableException', 'The identity database is unavailable; retry shortly.', { expose: true }),
  timeout: () => new CognitoError('ServiceUnavailableException', 'A service the identity provider depends on did not answer in time; retry shortly.', { expose: true }),
};

export type Operation = (context: IdentityContext, body: unknown, caller: { ip: string }) => Promise<unknown>;

/** Unsigned in Cognito (ClientId or an access token authenticates them). */
const UNSIGNED: Readonly<Record<string, Operation>> = { ...userOperations, ...accountOperations };
/** Everything else: SigV4 by an admin key. */
const SIGNED: Readonly<Record<string, Operation>> = { ...adminOperations, ...adminAccountOperations, ...poolOperations, ...groupOperations };

/** True for the requests this surface owns: `POST /` carrying a Cognito X-Amz-Target. */
export function isCognitoRequest(request: IncomingMessage, url: URL): boolean {
  const target = request.headers['x-amz-target'];
  return request.method === 'POST' && url.pathname === '/' && typeof target === 'string' && target.startsWith(TARGET_PREFIX);
}

// Cognito answers browsers from any origin for the operations a browser may call (the unsigned ones). `authorization`
// is not allowed, so a page can never send a SigV4-signed admin call; admin answers carry no CORS grant either.
const PUBLIC_CORS = { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'x-amzn-requestid, x-amzn-errortype' };
const PREFLIGHT_HEADERS = [
  'content-type', 'x-amz-target', 'x-amz-user-agent', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256', 'amz-sdk-invocation-id',
  'amz-sdk-request', 'cache-control',
];

/** A browser's preflight for the Cognito JSON API: `OPTIONS /` asking to send `X-Amz-Target`. */
export function isCognitoPreflight(request: IncomingMessage, url: URL): boolean {
  const asked = request.headers['access-control-request-headers'];
  return request.method === 'OPTIONS' && url.pathname === '/' && typeof asked === 'string' && asked.toLowerCase().split(',').some((name) => name.trim() === 'x-amz-target');
}

export function answerCognitoPreflight(response: ServerResponse): void {
  response.writeHead(204, {
    ...PUBLIC_CORS, 'access-control-allow-methods': 'POST', 'access-control-allow-headers': PREFLIGHT_HEADERS.join(', '), 'access-control-max-age': '600',
    'content-length': 0,
  });
  response.end();
}

/**
 * An operation Cognito serves unsigned (authenticated by ClientId, SecretHash or an access token), as the
 * hosted pages call it: the same code and rules as the JSON API, so the pages can do nothing the API refuses.
 */
export function unsignedOperation(name: string): Operation | undefined {
  return Object.hasOwn(UNSIGNED, name) ? UNSIGNED[name] : undefined;
}

export function clientIp(request: IncomingMessage): string {
  return request.socket.remoteAddress ?? 'unknown';
}

/** The Cognito JSON API: parse, authenticate admin calls by SigV4, dispatch, answer in Cognito's error shape. */
export async function handleCognito(context: IdentityContext, sigV4: SigV4Verifier, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const name = String(request.headers['x-amz-target']).slice(TARGET_PREFIX.length);
  const cors = Object.hasOwn(UNSIGNED, name) ? PUBLIC_CORS : {};
  try {
    const body = await readBodyFor(request, MAX_BODY, COGNITO_FAILURES);
    const userOperation = unsignedOperation(name);
    const adminOperation = Object.hasOwn(SIGNED, name) ? SIGNED[name] : undefined;
    if (!userOperation && !adminOperation) throw new CognitoError('UnknownOperationException', `Unknown operation ${name}`);
    let input: unknown;
    try {
      input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch {
      throw new CognitoError('SerializationException', 'Request body is not valid JSON');
    }
    if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new CognitoError('SerializationException', 'Request body must be a JSON object');
    if (adminOperation) await requireAdminSignature(sigV4, request, body, name);
    const operation = (userOperation ?? adminOperation)!;
    let result: unknown;
    const revocations = context.tokens.revocations;
    try {
      result = await operation(context, input, { ip: clientIp(request) });
    } finally {
      // Sign-outs, and refresh-token reuse (answered with an error), revoke: share that before answering.
      if (context.tokens.revocations !== revocations) await context.publishRevocations();
    }
    const text = JSON.stringify(result ?? {});
    response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': crypto.randomUUID(), ...cors });
    response.end(text);
  } catch (error) {
    const send = (wire: WireResponse): void => sendWire(response, { ...wire, headers: { ...wire.headers, ...cors } });
    if (error instanceof CognitoError) {
      send(error.toResponse());
      return;
    }
    const failure = failureFor(COGNITO_FAILURES, error);
    if (failure) {
      const wire = failure.toResponse();
      send(failure.code === 'ServiceUnavailableException' ? { ...wire, headers: { ...wire.headers, 'retry-after': '1' } } : wire);
      return;
    }
    context.logger.error({ err: error, operation: name }, 'cognito operation failed');
    send(new CognitoError('InternalErrorException', 'Internal error').toResponse());
  }
}

/** Admin operations need a SigV4 signature by an admin key; failures use the error names AWS JSON services answer with. */
async function requireAdminSignature(sigV4: SigV4Verifier, request: IncomingMessage, body: Buffer, name: string): Promise<void> {
  try {
    await sigV4.verify({ method: request.method ?? 'POST', rawPath: request.url ?? '/', headers: request.headers, body });
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    switch (error.code) {
      case 'missing':
        throw new CognitoError('MissingAuthenticationTokenException', `${name} requires a SigV4-signed request from an admin access key`);
      case 'unknown_access_key':
        throw new CognitoError('UnrecognizedClientException', 'The security token included in the request is invalid.');
      case 'clock_skew':
      case 'expired':
      case 'expired_credentials':
        throw new CognitoError('InvalidSignatureException', `Signature expired: ${error.message}`);
      case 'wrong_region':
        throw new CognitoError('InvalidSignatureException', error.message);
      default:
        throw new CognitoError('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided.');
    }
  }
}
