import type { IncomingMessage } from 'node:http';
import { AuthError, WORKLOAD_CLAIM, bearerFromWebSocketProtocols, createJwtAuthorizer, readCredential, type JwtAuthorizer, type Principal } from '@gatehouse/auth';
import { publishAuthFailure } from '@gatehouse/core';
import type { Logger, Platform } from '@gatehouse/core';
import { USER_ID_HEADER } from './agent-headers.ts';
import { RuntimeError } from './runtime-error.ts';
import type { RuntimeEntry } from './runtime-registry.ts';
import type { SigV4Check } from './sigv4-check.ts';

/** A verified caller, reduced to what the runtime needs. */
export interface Caller {
  readonly principal: Principal;
  /** Session-ownership key: `iss`+`sub` for JWT, the key's ARN (plus the acted-for user) for SigV4. */
  readonly owner: string;
  /** Sent to the agent as X-Amzn-Bedrock-AgentCore-Runtime-User-Id. */
  readonly userId: string | undefined;
  /** The user's access token (JWT callers only), for the workload-token exchange. */
  readonly bearer: string | undefined;
  /** For logs: never a token. */
  readonly label: string;
  /** The subprotocol to echo on a WebSocket upgrade that carried the token in Sec-WebSocket-Protocol. */
  readonly acceptedProtocol: string | undefined;
}

/** One request to authenticate. */
export interface AuthAttempt {
  readonly request: IncomingMessage;
  readonly url: URL;
  /** The request payload, for SigV4's body hash (undefined for upgrades). */
  readonly body: Buffer | undefined;
  /** Whether Sec-WebSocket-Protocol and presigned queries are acceptable carriers. */
  readonly websocket: boolean;
}

const MISMATCH = (method: 'OAuth' | 'SigV4'): string =>
  `Authorization method mismatch. The agent is configured for a different authorization method than what was used in your request. Check the agent's authorization configuration and ensure your request uses the matching method (${method})`;

const INVOKE_FOR_USER = 'bedrock-agentcore:InvokeAgentRuntimeForUser';

export interface InboundAuthOptions {
  readonly isRevoked?: ((claims: Record<string, unknown>) => Promise<boolean>) | undefined;
  readonly sigv4: SigV4Check;
  /** Fetch for discovery/JWKS: Gatehouse's in-process issuer documents (and tests). */
  readonly fetch?: typeof fetch | undefined;
  readonly logger?: Logger | undefined;
}

/**
 * Authenticates a request with the one method its runtime is configured for (AgentCore: JWT and
 * SigV4 are mutually exclusive) and applies the user-id rule. Refusals are AgentCore errors:
 * 401 for a missing token, 403 for everything that was presented and not accepted.
 */
export class InboundAuth {
  readonly #authorizers = new Map<string, JwtAuthorizer>();
  readonly #options: InboundAuthOptions;

  readonly #platform: Platform;

  constructor(platform: Platform, runtimes: readonly RuntimeEntry[], options: InboundAuthOptions) {
    this.#options = options;
    this.#platform = platform;
    for (const runtime of runtimes) this.add(runtime);
  }

  /** A runtime added while running gets its own JWT authorizer, as a configured one does. */
  add(runtime: RuntimeEntry): void {
    const jwt = runtime.config.authorizerConfiguration?.customJWTAuthorizer;
    if (!jwt) return;
    this.#authorizers.set(
      runtime.name,
      createJwtAuthorizer(jwt, {
        clock: this.#platform.clock,
        logger: this.#platform.logger,
        ...(this.#options.isRevoked ? { isRevoked: this.#options.isRevoked } : {}),
        ...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
        ...(runtime.allowedClients ? { allowedClients: runtime.allowedClients } : {}),
      }),
    );
  }

  remove(name: string): void {
    this.#authorizers.get(name)?.close();
    this.#authorizers.delete(name);
  }

  async authenticate(runtime: RuntimeEntry, attempt: AuthAttempt): Promise<Caller> {
    try {
      return await this.#authenticate(runtime, attempt);
    } catch (error) {
      if (error instanceof AuthError) {
        publishAuthFailure({ component: 'runtime', reason: error.code });
        // Every refusal names its cause in the log (reason code, never the token).
        this.#options.logger?.info({ runtime: runtime.name, reason: error.code, detail: error.message }, 'caller refused');
        throw toRuntimeError(error, runtime);
      }
      throw error;
    }
  }

  close(): void {
    for (const authorizer of this.#authorizers.values()) authorizer.close();
  }

  async #authenticate(runtime: RuntimeEntry, attempt: AuthAttempt): Promise<Caller> {
    const { request, url, body, websocket } = attempt;
    // url.searchParams is built lazily: reading it on a query-less URL would allocate one per request.
    let credential = readCredential(request.headers, url.search === '' ? undefined : url.searchParams, request.rawHeaders);
    let acceptedProtocol: string | undefined;
    if (websocket) {
      const offered = bearerFromWebSocketProtocols(request.headers['sec-websocket-protocol']);
      if (offered) {
        if (credential.kind !== 'none') throw new AuthError('malformed', 'Send the token either in Sec-WebSocket-Protocol or in Authorization, not both.');
        credential = { kind: 'bearer', token: offered.token };
        acceptedProtocol = offered.accepted;
      }
    } else if (credential.kind === 'sigv4-presigned') {
      throw new AuthError('malformed', 'Presigned URLs are accepted only for WebSocket connections; sign the Authorization header instead.');
    }
    const userIdHeader = request.headers[USER_ID_HEADER];
    if (runtime.method === 'OAuth') {
      if (credential.kind === 'none') throw new AuthError('missing', 'Missing bearer token: send Authorization: Bearer <access token>.');
      if (credential.kind !== 'bearer') throw new AuthError('method_mismatch', MISMATCH('OAuth'));
      const principal = await this.#authorizers.get(runtime.name)!.verify(credential.token);
      if (principal.claims[WORKLOAD_CLAIM] !== undefined) {
        // An agent must not turn the token it got for the gateway into an invocation of a runtime (its own or another).
        throw new AuthError('wrong_token_use', 'This is a workload access token (meant for the gateway); call the runtime with the user’s own access token.', { status: 403 });
      }
      if (userIdHeader !== undefined) {
        // Identity is derived, not declared (DESIGN invariant 5): the user id comes from `sub`.
        throw new RuntimeError('AccessDeniedException', `${USER_ID_HEADER} may only be sent by SigV4 callers with ${INVOKE_FOR_USER}; for bearer tokens the user id is the token's sub.`);
      }
      return {
        principal,
        owner: `jwt\u0000${principal.issuer ?? ''}\u0000${principal.subject}`,
        userId: principal.subject,
        bearer: credential.token,
        label: principal.subject,
        acceptedProtocol,
      };
    }
    if (credential.kind === 'none') throw new AuthError('missing', 'Missing Authentication Token: sign the request with AWS SigV4 (service bedrock-agentcore).', { status: 403 });
    if (credential.kind === 'bearer') throw new AuthError('method_mismatch', MISMATCH('SigV4'));
    const principal = credential.kind === 'sigv4'
      ? await this.#options.sigv4.verify(request, url, body ?? Buffer.alloc(0))
      : await this.#options.sigv4.verifyPresigned(request, url);
    const identity = principal.arn ?? principal.accessKeyId ?? principal.subject;
    const required = websocket ? ['bedrock-agentcore:InvokeAgentRuntime', 'bedrock-agentcore:InvokeAgentRuntimeWithWebSocketStream'] : ['bedrock-agentcore:InvokeAgentRuntime'];
    for (const action of required) {
      if (!allows(principal, action)) throw new RuntimeError('AccessDeniedException', `${identity} is not authorized to perform: ${action} on resource: ${runtime.arn}`);
    }
    let userId: string | undefined;
    if (userIdHeader !== undefined) {
      if (typeof userIdHeader !== 'string' || userIdHeader.length < 1 || userIdHeader.length > 1024) {
        throw new RuntimeError('ValidationException', `${USER_ID_HEADER} must be 1–1024 characters`, { reason: 'FieldValidationFailed', fieldList: [{ name: 'runtimeUserId', message: 'must be 1–1024 characters' }] });
      }
      if (!allows(principal, INVOKE_FOR_USER)) throw new RuntimeError('AccessDeniedException', `${identity} is not authorized to perform: ${INVOKE_FOR_USER} on resource: ${runtime.arn}`);
      userId = userIdHeader;
    }
    return {
      principal,
      owner: userId === undefined ? `sigv4\u0000${identity}` : `sigv4\u0000${identity}\u0000${userId}`,
      userId,
      bearer: undefined,
      label: userId === undefined ? identity : `${identity} for ${userId}`,
      acceptedProtocol: undefined,
    };
  }
}

/** IAM-style match: the exact action, `bedrock-agentcore:*` or `*`. */
function allows(principal: Principal, action: string): boolean {
  return principal.permissions.some((permission) => permission === action || permission === '*' || permission === 'bedrock-agentcore:*');
}

/** What a refused caller can do about it, per reason; a refusal names its actual cause. */
function hintFor(error: AuthError, runtime: RuntimeEntry): string {
  if (error.code === 'wrong_client') {
    return ` Runtime ${runtime.name} does not accept tokens of this app client: add it with \`gatehouse perimeter allow-client runtime:${runtime.name} <clientId>\` or to allowedClients.`;
  }
  return '';
}

function toRuntimeError(error: AuthError, runtime: RuntimeEntry): RuntimeError {
  const challenge = runtime.method === 'OAuth' ? { 'www-authenticate': error.code === 'missing' ? 'Bearer' : `Bearer error="${error.bearerError}"` } : undefined;
  const headers = challenge ? { headers: challenge } : {};
  if (error.status === 503) return new RuntimeError('ServiceUnavailableException', error.message);
  if (error.code === 'missing' && runtime.method === 'OAuth') return new RuntimeError('UnauthorizedException', error.message, headers);
  return new RuntimeError('AccessDeniedException', error.message + hintFor(error, runtime), headers);
}
