import type { ControlPlaneConfig, GatewayConfig, RuntimeConfig } from '@gatehouse/core';
import type { ResourceStore } from './resource-store.ts';

export interface CodeHome {
  readonly dataDir: string;
  readonly nodePath: string;
}

/** What every operation works with: the store, where ARNs point, and what gatehouse.yaml declares. */
export interface ControlPlaneContext {
  readonly store: ResourceStore;
  readonly region: string;
  readonly accountId: string;
  readonly now: () => Date;
  /** When this process started: the creation time shown for resources declared in gatehouse.yaml. */
  readonly startedAt: Date;
  readonly declaredRuntimes: readonly RuntimeConfig[];
  readonly declaredGateways: readonly GatewayConfig[];
  /** The MCP URL a declared gateway serves at. */
  readonly gatewayUrl: (name: string) => string | undefined;
  /**
   * Where code zips are unpacked and which node runs `NODE_*` ones; present when zips can be fetched (the sandbox
   * S3 runs here): such versions start CREATING and are prepared after the call's row is written.
   */
  readonly codeHome?: CodeHome | undefined;
  /** Gatehouse's public URL: gateways created here are served at `{baseUrl}/gateways/{gatewayId}/mcp`. */
  readonly baseUrl: string;
  /** Why the gateway component refused to serve a stored gateway as it is, if it did. */
  readonly gatewayRefusal: (gatewayId: string) => string | undefined;
  /** `controlPlane.commandRoots`, resolved: where `gatehouseAgent.command` programs may live (none: refused). */
  readonly commandRoots: readonly string[];
  /** `controlPlane.functions`: the local functions Lambda targets may name. */
  readonly functions: ControlPlaneConfig['functions'];
  /** `controlPlane.quotas`: resource counts past which a Create is ServiceQuotaExceededException. */
  readonly quotas: ControlPlaneConfig['quotas'];
}

/** Parameters of one call: path parameters (decoded once), the query string, and the JSON body. */
export interface OperationRequest {
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly body: Readonly<Record<string, unknown>>;
}

export interface OperationResult {
  readonly status: number;
  /** Undefined for an empty body (e.g. 204). */
  readonly body?: unknown;
}

export type Operation = (context: ControlPlaneContext, request: OperationRequest) => Promise<OperationResult>;

export function arn(context: ControlPlaneContext, resource: string): string {
  return `arn:aws:bedrock-agentcore:${context.region}:${context.accountId}:${resource}`;
}

const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** AWS-style id suffix: 10 letters and digits (lower-case only where the id pattern is lower-case). */
export function idSuffix(lowerCase = false): string {
  const alphabet = lowerCase ? ALPHANUMERIC.slice(0, 26) + ALPHANUMERIC.slice(52) : ALPHANUMERIC;
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  return Array.from(bytes, (byte) => alphabet[byte % alphabet.length]).join('');
}
