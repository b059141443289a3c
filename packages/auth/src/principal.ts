/** Who a verified request comes from, whichever method proved it. */
export interface Principal {
  readonly method: 'jwt' | 'sigv4';
  /** JWT `sub`; SigV4: the key's principal subject. */
  readonly subject: string;
  readonly issuer?: string;
  /** JWT `client_id` (or `azp`). */
  readonly clientId?: string;
  /** `username` / `cognito:username`. */
  readonly username?: string;
  readonly scopes: readonly string[];
  /** `cognito:groups`. */
  readonly groups: readonly string[];
  /** The verified payload, re-serialized from the signed bytes (never a header's claims). */
  readonly claims: Readonly<Record<string, unknown>>;
  /** Raw bearer; never logged. */
  readonly token?: string;
  /** Epoch seconds. */
  readonly expiresAt?: number;
  readonly accessKeyId?: string;
  readonly arn?: string;
  /** SigV4: e.g. `bedrock-agentcore:InvokeAgentRuntime`; JWT: []. */
  readonly permissions: readonly string[];
}
