// Runs the official @modelcontextprotocol/conformance server scenarios against the same MCP server
// directly and through the gateway (exposeUnprefixed, bearer token added by a small local proxy,
// because the conformance client sends no Authorization header), and prints both results.
// Usage: node packages/gateway/conformance/run-conformance.ts <path to the conformance CLI dist/index.js>
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer, request as httpRequest } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { closeServer, listen } from '@gatehouse/core';
import { startTestIssuer } from '../../auth/test/support/test-issuer.ts';
import { startGatewayStack } from '../test/support/gateway-stack.ts';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const WAV = 'UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA=';
const SCENARIOS = [
  'server-initialize', 'ping', 'tools-list', 'tools-call-simple-text', 'tools-call-image', 'tools-call-audio',
  'tools-call-embedded-resource', 'tools-call-mixed-content', 'tools-call-error', 'dns-rebinding-protection',
];

function conformanceServer(): McpServer {
  const server = new McpServer({ name: 'conformance-tools', version: '1.0.0' });
  server.registerTool('test_simple_text', { description: 'simple text' }, async () => ({ content: [{ type: 'text', text: 'This is a simple text response for testing.' }] }));
  server.registerTool('test_image_content', { description: 'image' }, async () => ({ content: [{ type: 'image', data: PNG, mimeType: 'image/png' }] }));
  server.registerTool('test_audio_content', { description: 'audio' }, async () => ({ content: [{ type: 'audio', data: WAV, mimeType: 'audio/wav' }] }));
  const resource = { type: 'resource' as const, resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } };
  server.registerTool('test_embedded_resource', { description: 'resource' }, async () => ({ content: [resource] }));
  server.registerTool('test_multiple_content_types', { description: 'mixed' }, async () => ({
    content: [{ type: 'text', text: 'Multiple content types test:' }, { type: 'image', data: PNG, mimeType: 'image/png' }, resource],
  }));
  server.registerTool('test_error_handling', { description: 'error' }, async () => ({ isError: true, content: [{ type: 'text', text: 'This tool intentionally returns an error for testing' }] }));
  return server;
}

const cli = process.argv[2];
if (!cli) throw new Error('give the path of the conformance CLI (node_modules/@modelcontextprotocol/conformance/dist/index.js)');

const upstream = createServer((request, response) => {
  void (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const server = conformanceServer();
    const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true });
    response.on('close', () => void server.close());
    await server.connect(transport);
    await transport.handleRequest(request, response, body ? JSON.parse(body) : undefined);
  })();
});
const upstreamUrl = `http://127.0.0.1:${await listen(upstream, 0)}/mcp`;
const issuer = await startTestIssuer();
const stack = await startGatewayStack([
  {
    name: 'default',
    exposeUnprefixed: true,
    authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: issuer.discoveryUrl, allowedClients: ['test-client'] } },
    targets: [{ name: 'conformance', targetConfiguration: { mcp: { mcpServer: { endpoint: upstreamUrl } } } }],
  },
]);
const token = issuer.sign({ sub: 'conformance', exp: Math.floor(Date.now() / 1000) + 3600 });
const gatewayUrl = new URL(`${stack.baseUrl}/mcp`);
const proxy = createServer((request, response) => {
  const forward = httpRequest({ host: gatewayUrl.hostname, port: gatewayUrl.port, path: request.url, method: request.method, headers: { ...request.headers, host: gatewayUrl.host, authorization: `Bearer ${token}` } }, (answer) => {
    response.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(response);
  });
  request.pipe(forward);
});
const proxyUrl = `http://127.0.0.1:${await listen(proxy, 0)}/mcp`;

const execute = promisify(execFile);

// asynchronous on purpose: the servers under test live in this process's event loop
async function run(url: string): Promise<Map<string, string>> {
  const results = new Map<string, string>();
  for (const scenario of SCENARIOS) {
    const result = await execute(process.execPath, [cli!, 'server', '--url', url, '--scenario', scenario], { encoding: 'utf8', timeout: 60_000 }).catch((error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? '' }));
    const text = `${result.stdout}\n${result.stderr}`;
    const summary = /Passed: (\d+)\/(\d+)/.exec(text);
    const errors = text.split('\n').filter((line) => /^\s+Error:/.test(line)).map((line) => line.trim()).slice(0, 2).join(' | ').slice(0, 160);
    results.set(scenario, `${summary ? `${summary[1]}/${summary[2]}` : '?'}${errors ? ` — ${errors}` : ''}`);
    console.error(`[conformance] ${url} ${scenario}: ${results.get(scenario)}`);
  }
  return results;
}

try {
  const direct = await run(upstreamUrl);
  const through = await run(proxyUrl);
  console.log('| scenario | direct | through the gateway |\n|---|---|---|');
  for (const scenario of SCENARIOS) console.log(`| ${scenario} | ${direct.get(scenario)} | ${through.get(scenario)} |`);
} finally {
  await closeServer(proxy);
  await stack.close();
  await issuer.close();
  await closeServer(upstream);
}
