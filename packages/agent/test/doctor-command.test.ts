import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import { closeServer, listen, parseConfig, type CommandContext } from '@gatehouse/core';
import { agentCommands, agentEntryPath } from '../src/index.ts';
import { startGatewayStandIn, type GatewayStandIn } from './support/gateway-stand-in.ts';
import { errorReply, startConverseStreamServer } from './support/converse-stream-server.ts';

let issuer: Server;
let issuerUrl = '';
let gateway: GatewayStandIn;
let bedrock: Awaited<ReturnType<typeof startConverseStreamServer>>;

before(async () => {
  const { publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  issuer = createServer((request, response) => {
    if (request.url === '/pool/.well-known/openid-configuration') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: `${issuerUrl}/pool`, jwks_uri: `${issuerUrl}/pool/.well-known/jwks.json` }));
    } else if (request.url === '/pool/.well-known/jwks.json') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    } else response.writeHead(404).end();
  });
  issuerUrl = `http://127.0.0.1:${await listen(issuer, 0)}`;
  gateway = await startGatewayStandIn(new Set(['unused']));
  bedrock = await startConverseStreamServer();
});
after(async () => {
  await closeServer(issuer);
  await gateway.close();
  await bedrock.close();
});

async function runDoctor(config: unknown, args: string[] = []): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const context: CommandContext = { config: parseConfig(config), dataDir: '/nonexistent', baseUrl: 'http://127.0.0.1:1', stdout: (line) => lines.push(line), stderr: (line) => lines.push(line) };
  const code = await agentCommands.doctor(args, context);
  return { code, lines: lines.flatMap((line) => line.split('\n')) };
}

const jwt = () => ({ customJWTAuthorizer: { discoveryUrl: `${issuerUrl}/pool/.well-known/openid-configuration`, allowedClients: ['web'] } });

test('doctor passes for a working issuer, the reference agent, a reachable MCP target and the offline planner', async () => {
  const { code, lines } = await runDoctor({
    runtimes: [{ agentRuntimeName: 'ops_agent', agent: { command: [process.execPath, agentEntryPath] }, authorizerConfiguration: jwt() }],
    gateways: [{ name: 'default', authorizerConfiguration: jwt(), targets: [{ name: 'ops', targetConfiguration: { mcp: { mcpServer: { endpoint: gateway.url } } } }] }],
  });
  assert.equal(code, 0, lines.join('\n'));
  assert.ok(lines.every((line) => !line.startsWith('✗')), lines.join('\n'));
  assert.ok(lines.some((line) => line === `✓ issuer ${issuerUrl}/pool: discovery and JWKS OK (1 key(s))`), lines.join('\n'));
  assert.ok(lines.some((line) => /^✓ runtime ops_agent: agent ".*main\.ts" started and answered \/ping in \d+ ms$/.test(line)), lines.join('\n'));
  assert.ok(lines.some((line) => line.startsWith(`✓ gateway default target ops: MCP server ${gateway.url} reachable`)), lines.join('\n'));
  assert.ok(lines.includes('✓ model: offline planner, nothing to check'));
  assert.equal(lines.at(-1), 'All checks passed.');
});

test('doctor fails with a fix for each broken part: agent that never starts, unreachable target and issuer, Bedrock access denied', async () => {
  const closed = createServer();
  const deadPort = await listen(closed, 0);
  await closeServer(closed);
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  process.env.AWS_ACCESS_KEY_ID = 'AKIDDOCTOR000000001';
  process.env.AWS_SECRET_ACCESS_KEY = 'doctor-secret';
  bedrock.reply(errorReply(403, 'AccessDeniedException', "You don't have access to the model with the specified model ID."));
  try {
    const { code, lines } = await runDoctor({
      runtimes: [
        {
          agentRuntimeName: 'broken',
          agent: { command: [process.execPath, '-e', 'process.stderr.write("boom: missing module\\n"); process.exit(3)'] },
          authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: `http://127.0.0.1:${deadPort}/pool/.well-known/openid-configuration`, allowedClients: ['web'] } },
        },
      ],
      gateways: [{ name: 'default', targets: [{ name: 'remote', targetConfiguration: { mcp: { mcpServer: { endpoint: `http://127.0.0.1:${deadPort}/mcp` } } } }] }],
      model: { provider: 'bedrock', region: 'us-east-1', endpoint: bedrock.endpoint },
    });
    assert.equal(code, 1);
    const text = lines.join('\n');
    assert.match(text, /✗ issuer discovery http:\/\/127\.0\.0\.1:\d+\/pool\/\.well-known\/openid-configuration unreachable \(ECONNREFUSED\)\n {4}fix: /);
    assert.match(text, /✗ runtime broken: agent ".*" did not become Healthy on PORT \d+ \(the process exited\): boom: missing module\n {4}fix: /);
    assert.match(text, /✗ gateway default target remote: MCP server .* unreachable \(ECONNREFUSED\)\n {4}fix: /);
    assert.match(text, /✗ model bedrock .*: Access to model .* in us-east-1 is not enabled .*\n {4}fix: Enable it in the Bedrock console/);
    assert.equal(lines.at(-1), 'Some checks failed; see the fixes above.');
  } finally {
    if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    else process.env.AWS_ACCESS_KEY_ID = saved.id;
    if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
  }
});

test('doctor --url checks the running instance: its issuer from /config.json, its MCP metadata, and agents given by url', async () => {
  const running = createServer((request, response) => {
    if (request.url === '/config.json') response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: `${issuerUrl}/pool` }));
    else if (request.url === '/.well-known/oauth-protected-resource/mcp') response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    else if (request.url === '/ping') response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"HealthyBusy","time_of_last_update":1}');
    else response.writeHead(404).end();
  });
  const runningUrl = `http://127.0.0.1:${await listen(running, 0)}`;
  try {
    const { code, lines } = await runDoctor({ runtimes: [{ agentRuntimeName: 'remote_agent', agent: { url: runningUrl } }], gateways: [] }, ['--url', runningUrl]);
    assert.equal(code, 0, lines.join('\n'));
    assert.ok(lines.includes(`✓ issuer ${issuerUrl}/pool: discovery and JWKS OK (1 key(s))`), lines.join('\n'));
    assert.ok(lines.includes(`✓ gateway at ${runningUrl}/mcp publishes its protected-resource metadata`), lines.join('\n'));
    assert.ok(lines.includes(`✓ runtime remote_agent: agent at ${runningUrl} is Healthy`), lines.join('\n'));
  } finally {
    await closeServer(running);
  }
});

test('doctor rejects unknown options with exit 2', async () => {
  const { code, lines } = await runDoctor({}, ['--bogus']);
  assert.equal(code, 2);
  assert.match(lines.join('\n'), /gatehouse doctor: .*bogus/);
});
