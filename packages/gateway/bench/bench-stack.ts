// The servers the gateway bench runs against: a test issuer, the official SDK's MCP server as the
// upstream, and a gateway stack with two gateways (one in front of the upstream, one with 1,000 tools).
import { startTestIssuer, type TestIssuer } from '@gatehouse/testing/test-issuer';
import { startGatewayStack, type GatewayStack } from '@gatehouse/testing/gateway-stack';
import { startUpstreamMcpServer } from '@gatehouse/testing/upstream-servers';
import type { ToolDefinition } from '../src/index.ts';

export interface BenchStack {
  readonly issuer: TestIssuer;
  readonly upstreamUrl: string;
  readonly stack: GatewayStack;
  /** A token of a user in the ops-readonly group. */
  readonly token: string;
  close(): Promise<void>;
}

function manyTools(): ToolDefinition[] {
  return Array.from({ length: 1000 }, (_, index) => ({
    name: index % 10 === 0 ? `bucket_${index}_put` : `tool_${index}_list`,
    description: `Synthetic tool number ${index}`,
    inputSchema: { type: 'object', properties: { value: { type: 'string' } } },
  }));
}

export async function startBenchStack(): Promise<BenchStack> {
  const issuer = await startTestIssuer();
  const upstream = await startUpstreamMcpServer();
  const jwt = { discoveryUrl: issuer.discoveryUrl, allowedClients: ['test-client'] };
  const limits = { maxRequestBytes: 6_000_000, requestsPerMinutePerPrincipal: 1_000_000 };
  const stack = await startGatewayStack(
    [
      { name: 'default', authorizerConfiguration: { customJWTAuthorizer: jwt }, limits, targets: [{ name: 'up', targetConfiguration: { mcp: { mcpServer: { endpoint: upstream.url } } } }] },
      { name: 'many', authorizerConfiguration: { customJWTAuthorizer: jwt }, limits, targets: [{ name: 'big', targetConfiguration: { mcp: { lambda: { module: 'bench:many' } } } }] },
    ],
    { functions: { 'bench:many': { toolSchema: manyTools(), handler: async () => ({ ok: true }) } } },
  );
  return {
    issuer,
    upstreamUrl: upstream.url,
    stack,
    token: issuer.sign({ sub: 'bench-user', 'cognito:groups': ['ops-readonly'] }),
    async close() {
      await stack.close();
      await upstream.close();
      await issuer.close();
    },
  };
}
