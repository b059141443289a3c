import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuthError, type Principal, type SigV4Verifier } from '@gatehouse/auth';
import { failureFor, parseJson, readBodyFor, sendJson, sendWire, type FailureTable, type Logger } from '@gatehouse/core';
import { AgentCoreIdentityError } from './agentcore-identity-error.ts';
import type { WorkloadActor } from './workload-identities.ts';
import { completeResourceTokenAuth, getResourceApiKey, getResourceOauth2Token, type VaultOperationDeps } from './vault/vault-operations.ts';

const PREFIX = '/identities/';
const MAX_BODY = 64 * 1024;

/** The AgentCore Identity surface's answers to internal failures. */
const IDENTITY_FAILURES: FailureTable<AgentCoreIdentityError> = {
  bodyTooLarge: () => new AgentCoreIdentityError('ValidationException', `Request body exceeds ${MAX_BODY} bytes`),
  jsonTooDeep: (error) => new AgentCoreIdentityError('ValidationException', error.message),
  databaseUnavailable: () => new AgentCoreIdentityError('ServiceUnavailableException', 'The identity database is unavailable; retry shortly.'),
  timeout: () => new AgentCoreIdentityError('ServiceUnavailableException', 'A service the token vault depends on did not answer in time; retry shortly.'),
};

type Operation = (deps: VaultOperationDeps, input: Record<string, unknown>, actor: WorkloadActor) => Promise<Record<string, unknown>>;

const token = (issued: Promise<{ workloadAccessToken: string }>): Promise<Record<string, unknown>> => issued.then((result) => ({ workloadAccessToken: result.workloadAccessToken }));

/**
 * The AgentCore Identity data plane (paths as the SDK model of `@aws-sdk/client-bedrock-agentcore`
 * declares them). Each is its own IAM action; `GetWorkloadAccessTokenForUserId` is the sensitive one
 * (the caller asserts who the user is), so an admin key needs it by name or by a wildcard.
 */
const operations: Record<string, Operation> = {
  GetWorkloadAccessToken: (deps, input, actor) => token(deps.workloads.forWorkload(stringField(input, 'workloadName'), actor)),
  GetWorkloadAccessTokenForJWT: (deps, input, actor) => token(deps.workloads.forJwt(stringField(input, 'workloadName'), input.userToken, actor)),
  GetWorkloadAccessTokenForUserId: (deps, input, actor) => token(deps.workloads.forUserId(stringField(input, 'workloadName'), input.userId, actor)),
  GetResourceOauth2Token: (deps, input) => getResourceOauth2Token(deps, input),
  GetResourceApiKey: (deps, input) => getResourceApiKey(deps, input),
  CompleteResourceTokenAuth: (deps, input) => completeResourceTokenAuth(deps, input),
};

/** The token vault's operations live at REST paths, not under their names. */
const operationByPath: Record<string, string> = { 'oauth2/token': 'GetResourceOauth2Token', 'api-key': 'GetResourceApiKey' };

export function isAgentCoreIdentityRequest(url: URL): boolean {
  return url.pathname.startsWith(PREFIX);
}

/** `POST /identities/{Operation}`: SigV4 (service `bedrock-agentcore`), then the IAM action, then the operation. */
export interface AgentCoreIdentitySurface {
  readonly deps: VaultOperationDeps;
  /** Service `bedrock-agentcore`, the configured region, admin keys. */
  readonly sigV4: SigV4Verifier;
  readonly logger: Logger;
}

export async function handleAgentCoreIdentity({ deps, sigV4, logger }: AgentCoreIdentitySurface, request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
  const path = url.pathname.slice(PREFIX.length);
  const name = Object.hasOwn(operationByPath, path) ? operationByPath[path]! : path;
  try {
    const operation = Object.hasOwn(operations, name) ? operations[name] : undefined;
    if (!operation) throw new AgentCoreIdentityError('ResourceNotFoundException', `Unknown AgentCore Identity operation ${name.slice(0, 64)}; use ${Object.keys(operations).join(', ')}.`);
    if (request.method !== 'POST') throw new AgentCoreIdentityError('ValidationException', `${name} takes POST`);
    const body = await readBodyFor(request, MAX_BODY, IDENTITY_FAILURES);
    const principal = await authenticate(sigV4, request, body);
    const action = `bedrock-agentcore:${name}`;
    if (!principal.permissions.some((permission) => permission === '*' || permission === 'bedrock-agentcore:*' || permission === action)) {
      throw new AgentCoreIdentityError('AccessDeniedException', `${principal.arn ?? principal.subject} is not authorized to perform: ${action}`);
    }
    let input: unknown;
    try {
      input = body.length === 0 ? {} : parseJson(body);
    } catch (error) {
      throw failureFor(IDENTITY_FAILURES, error) ?? new AgentCoreIdentityError('ValidationException', 'Request body is not valid JSON');
    }
    if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new AgentCoreIdentityError('ValidationException', 'Request body must be a JSON object');
    const actor: WorkloadActor = { sub: principal.arn ?? principal.subject };
    const result = await operation(deps, input as Record<string, unknown>, actor);
    const fields = input as Record<string, unknown>;
    logger.info({ operation: name, workload: fields.workloadName, provider: fields.resourceCredentialProviderName, caller: actor.sub }, isWorkloadTokenOperation(name) ? 'workload access token issued' : 'token vault operation answered');
    sendJson(response, 200, result, { 'cache-control': 'no-store' });
  } catch (error) {
    const failure = error instanceof AgentCoreIdentityError ? error : failureFor(IDENTITY_FAILURES, error);
    if (failure) {
      logger.info({ operation: name.slice(0, 64), code: failure.code, reason: failure.message }, isWorkloadTokenOperation(name) ? 'workload access token refused' : 'token vault operation refused');
      sendWire(response, failure.toResponse());
      return;
    }
    logger.error({ err: error, operation: name.slice(0, 64) }, 'AgentCore Identity operation failed');
    sendWire(response, new AgentCoreIdentityError('InternalServerException', 'Internal error').toResponse());
  }
}

function isWorkloadTokenOperation(name: string): boolean {
  return name.startsWith('GetWorkloadAccessToken');
}

function stringField(input: Record<string, unknown>, field: string): string {
  const value = input[field];
  return typeof value === 'string' ? value : '';
}

async function authenticate(sigV4: SigV4Verifier, request: IncomingMessage, body: Buffer): Promise<Principal> {
  try {
    return await sigV4.verify({ method: request.method ?? 'POST', rawPath: request.url ?? '/', headers: request.headers, body });
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    // AWS answers unsigned and badly signed requests to its REST JSON services with 403 in these names.
    if (error.code === 'missing') throw new AgentCoreIdentityError('AccessDeniedException', 'Missing Authentication Token: sign the request with AWS SigV4 (service bedrock-agentcore) using an admin access key.');
    if (error.code === 'unknown_access_key') throw new AgentCoreIdentityError('AccessDeniedException', 'The security token included in the request is invalid.');
    throw new AgentCoreIdentityError('AccessDeniedException', error.message);
  }
}
