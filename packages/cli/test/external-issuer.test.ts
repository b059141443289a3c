// A runtime and a gateway that trust another issuer by discoveryUrl (the seeds' Cognito setup), with
// Cognito-, Keycloak-, Entra- and audience-only-shaped access tokens signed with RSA and EC keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BedrockAgentCoreClient, GetWorkloadAccessTokenForJWTCommand, GetWorkloadAccessTokenForUserIdCommand, GetWorkloadAccessTokenCommand } from '@aws-sdk/client-bedrock-agentcore';
import { createLogger } from '@gatehouse/core';
import { gatewayCommands } from '@gatehouse/gateway';
import { Writable } from 'node:stream';
import { startGatehouse, type RunningGatehouse } from '../src/start-gatehouse.ts';
import { startTestIssuer, type TestIssuer } from '@gatehouse/testing/test-issuer';

const support = path.join(path.dirname(fileURLToPath(import.meta.url)), 'support');
const AUDIENCE = 'api://gatehouse-tools';

interface Answer {
  readonly user?: string;
  readonly hasWorkloadToken: boolean;
  readonly authorization: boolean;
  readonly workloadClaims?: Record<string, unknown>;
  readonly tool?: { sub: string; username: string; groups: string[]; scopes: string[] };
  readonly toolError?: string;
}

function adminCredentials(file: string): { accessKeyId: string; secretAccessKey: string } {
  const text = readFileSync(file, 'utf8');
  return { accessKeyId: /aws_access_key_id\s*=\s*(\S+)/.exec(text)![1]!, secretAccessKey: /aws_secret_access_key\s*=\s*(\S+)/.exec(text)![1]! };
}

function invoke(gatehouse: RunningGatehouse, runtime: string, token: string, prompt = 'who am I'): Promise<Response> {
  return fetch(`${gatehouse.url}/runtimes/${runtime}/invocations`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'x-amzn-bedrock-agentcore-runtime-session-id': `external-issuer-session-${runtime}-${prompt.replace(/\W/g, '-')}-0000000000`,
    },
    body: JSON.stringify({ prompt }),
  });
}

async function auditRows(gatehouse: RunningGatehouse): Promise<{ user: string; issuer: string; tool: string; decision: string; outcome: string; clientId: string; detail: string }[]> {
  let printed = '';
  const code = await gatewayCommands.audit(['--json', '--limit', '100'], { config: gatehouse.config, dataDir: gatehouse.dataDir, baseUrl: gatehouse.url, stdout: (line) => (printed += line), stderr: () => undefined });
  assert.equal(code, 0);
  return JSON.parse(printed) as never;
}

/** The machine's environment without any AWS identity of its own, plus the admin key. */
function awsCliEnvironment(credentials: { accessKeyId: string; secretAccessKey: string }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('AWS_')) env[name] = value;
  return { ...env, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
}

function loggedPrompts(log: string): string[] {
  return existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { prompt: string }).prompt) : [];
}

async function withStack(work: (context: { gatehouse: RunningGatehouse; issuer: TestIssuer; other: TestIssuer; log: string }) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-external-'));
  const issuer = await startTestIssuer();
  const other = await startTestIssuer();
  const log = path.join(dir, 'agent.log');
  const agent = { command: [process.execPath, path.join(support, 'whoami-agent.mjs')], env: { WHOAMI_LOG: log } };
  // The agent logs to a file of this test's: shared with the host, so not in a namespace of its own.
  const isolation = { mode: 'none' as const };
  const gatehouse = await startGatehouse({
    dataDir: path.join(dir, 'data'),
    port: 0,
    logger: createLogger({ level: 'silent' }),
    config: {
      tools: { sandbox: { enabled: false } },
      runtimes: [
        {
          agentRuntimeName: 'ext_agent',
          agent,
          isolation,
          authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: issuer.discoveryUrl, allowedClients: ['cognito-app', 'keycloak-app', 'entra-app'] } },
        },
        {
          agentRuntimeName: 'aud_agent',
          agent,
          isolation,
          authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: issuer.discoveryUrl, allowedAudience: [AUDIENCE] } },
        },
      ],
      gateways: [
        {
          name: 'default',
          authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: issuer.discoveryUrl, allowedAudience: [AUDIENCE] } },
          targets: [{ name: 'who', targetConfiguration: { mcp: { lambda: { module: path.join(support, 'whoami-tool.mjs') } } } }],
        },
      ],
    },
  });
  try {
    await work({ gatehouse, issuer, other, log });
  } finally {
    await gatehouse.close();
    await issuer.close();
    await other.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const now = (): number => Math.floor(Date.now() / 1000);

/** Access-token shapes of four real issuers, each as that issuer marks an access token. */
function shapes(issuer: TestIssuer): { name: string; runtime: string; token: string; sub: string; username: string; scopes: string[]; groups: string[] }[] {
  const base = { iss: issuer.issuer, iat: now(), exp: now() + 600 };
  return [
    {
      name: 'Cognito (client_id, token_use, RSA)', runtime: 'ext_agent', sub: 'cognito-user-1', username: 'ana', scopes: ['openid', 'profile'], groups: ['ops'],
      token: issuer.signWith(issuer.keys.rsa, { alg: 'RS256', kid: issuer.keys.rsa.kid }, { ...base, sub: 'cognito-user-1', client_id: 'cognito-app', token_use: 'access', scope: 'openid profile', username: 'ana', 'cognito:groups': ['ops'] }),
    },
    {
      name: 'Keycloak (azp, aud account, preferred_username, EC)', runtime: 'ext_agent', sub: 'kc-user-2', username: 'ben', scopes: ['openid', 'email'], groups: [],
      token: issuer.signWith(issuer.keys.ec, { alg: 'ES256', kid: issuer.keys.ec.kid, typ: 'JWT' }, { ...base, sub: 'kc-user-2', azp: 'keycloak-app', aud: 'account', typ: 'Bearer', scope: 'openid email', preferred_username: 'ben' }),
    },
    {
      name: 'Entra (azp, aud api, scp instead of scope, RSA)', runtime: 'ext_agent', sub: 'entra-user-3', username: 'entra-user-3', scopes: ['Tools.Read', 'Tools.Write'], groups: [],
      token: issuer.signWith(issuer.keys.rsa, { alg: 'RS256', kid: issuer.keys.rsa.kid, typ: 'JWT' }, { ...base, sub: 'entra-user-3', azp: 'entra-app', aud: 'api://entra-resource', scp: 'Tools.Read Tools.Write', ver: '2.0' }),
    },
    {
      name: 'audience only, no client_id (EC)', runtime: 'aud_agent', sub: 'aud-user-4', username: 'aud-user-4', scopes: ['tools'], groups: [],
      token: issuer.signWith(issuer.keys.ec, { alg: 'ES256', kid: issuer.keys.ec.kid, typ: 'at+jwt' }, { ...base, sub: 'aud-user-4', aud: AUDIENCE, scope: 'tools' }),
    },
  ];
}

test('tokens of another issuer reach the agent with default settings, and its workload token acts at the gateway as that same user', async () => {
  await withStack(async ({ gatehouse, issuer, log }) => {
    for (const shape of shapes(issuer)) {
      const response = await invoke(gatehouse, shape.runtime, shape.token, shape.name);
      assert.equal(response.status, 200, `${shape.name}: ${await response.clone().text()}`);
      const answer = (await response.json()) as Answer;
      assert.equal(answer.user, shape.sub, `${shape.name}: the user id is the token's sub`);
      assert.equal(answer.authorization, false, `${shape.name}: the agent never gets the user's own token`);
      assert.ok(answer.hasWorkloadToken, `${shape.name}: the agent got a workload access token`);
      assert.equal(answer.workloadClaims?.workload_name, shape.runtime, 'bound to the workload');
      assert.equal(answer.workloadClaims?.user_iss, issuer.issuer, "bound to the user's issuer");
      assert.equal(answer.workloadClaims?.sub, shape.sub, "bound to the user's sub");
      assert.equal(answer.workloadClaims?.aud, `${gatehouse.url}/mcp`, "aimed at the gateway's audience");
      assert.equal(answer.toolError, undefined, `${shape.name}: the tool call failed`);
      assert.deepEqual(answer.tool, { sub: shape.sub, username: shape.username, groups: shape.groups, scopes: shape.scopes }, `${shape.name}: the tool sees the user`);
    }
    assert.equal(loggedPrompts(log).length, 4);
    // The gateway audited each call under the external issuer's user, not under Gatehouse's issuer.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const rows = (await auditRows(gatehouse)).filter((row) => row.tool === 'who___whoami');
    assert.deepEqual(rows.map((row) => row.issuer), Array(4).fill(issuer.issuer));
    assert.deepEqual(new Set(rows.map((row) => row.user)), new Set(['ana', 'ben', 'entra-user-3', 'aud-user-4']));
  });
});

test('forged, expired, wrong-client, other-issuer, ID and workload tokens are refused and the agent receives nothing', async () => {
  await withStack(async ({ gatehouse, issuer, other, log }) => {
    const base = { iss: issuer.issuer, sub: 'mallory', client_id: 'cognito-app', token_use: 'access', scope: 'openid', iat: now(), exp: now() + 600 };
    const stranger = { kid: issuer.keys.rsa.kid, alg: 'RS256' as const, privateKey: other.keys.rsa.privateKey, publicJwk: {} };
    const cases: { name: string; token: string; status: number; message: RegExp }[] = [
      { name: 'forged (right kid, other key)', token: issuer.signWith(stranger, { alg: 'RS256', kid: issuer.keys.rsa.kid }, base), status: 403, message: /signature/ },
      { name: 'expired', token: issuer.signWith(issuer.keys.rsa, { alg: 'RS256', kid: issuer.keys.rsa.kid }, { ...base, iat: now() - 7200, exp: now() - 3600 }), status: 403, message: /expired/ },
      { name: 'wrong client', token: issuer.signWith(issuer.keys.rsa, { alg: 'RS256', kid: issuer.keys.rsa.kid }, { ...base, client_id: 'other-app' }), status: 403, message: /client "other-app" is not allowed.*allow-client runtime:ext_agent/ },
      { name: 'other issuer', token: other.sign({ sub: 'mallory', client_id: 'cognito-app' }), status: 403, message: /kid|issuer/ },
      { name: 'ID token', token: issuer.signWith(issuer.keys.rsa, { alg: 'RS256', kid: issuer.keys.rsa.kid }, { ...base, token_use: 'id' }), status: 403, message: /ID token/ },
    ];
    for (const entry of cases) {
      const response = await invoke(gatehouse, 'ext_agent', entry.token, entry.name);
      const body = (await response.json()) as { message: string };
      assert.equal(response.status, entry.status, `${entry.name}: ${body.message}`);
      assert.match(body.message, entry.message, entry.name);
    }
    // A workload token (what an agent holds) is not a credential for any runtime, its own or another.
    const genuine = shapes(issuer)[0]!;
    const answer = (await (await invoke(gatehouse, 'ext_agent', genuine.token, 'get a workload token')).json()) as Answer & { workloadClaims: Record<string, unknown> };
    const workloadToken = await mintForJwt(gatehouse, 'ext_agent', genuine.token);
    for (const runtime of ['ext_agent', 'aud_agent']) {
      const response = await invoke(gatehouse, runtime, workloadToken, `replay at ${runtime}`);
      assert.ok(response.status === 401 || response.status === 403, `workload token at ${runtime}: ${response.status}`);
    }
    assert.equal(answer.workloadClaims.workload_name, 'ext_agent');
    // A workload token of one workload is refused for another, and a user token the other workload's authorizer refuses gets none.
    await assert.rejects(mintForJwt(gatehouse, 'aud_agent', workloadToken), (error: Error) => error.name === 'AccessDeniedException');
    await assert.rejects(mintForJwt(gatehouse, 'aud_agent', genuine.token), (error: Error) => error.name === 'AccessDeniedException' && /aud/.test(error.message));
    assert.deepEqual(loggedPrompts(log), ['get a workload token'], 'only the genuine call reached the agent');
  });
});

async function mintForJwt(gatehouse: RunningGatehouse, workloadName: string, userToken: string): Promise<string> {
  const client = new BedrockAgentCoreClient({ endpoint: gatehouse.url, region: gatehouse.config.region, credentials: adminCredentials(gatehouse.adminCredentialsFile) });
  try {
    const result = await client.send(new GetWorkloadAccessTokenForJWTCommand({ workloadName, userToken }));
    return result.workloadAccessToken!;
  } finally {
    client.destroy();
  }
}

test('AgentCore Identity token APIs answer the AWS SDK and the AWS CLI, SigV4-signed with the admin key, in AWS shapes', async () => {
  await withStack(async ({ gatehouse, issuer }) => {
    const user = shapes(issuer)[0]!;
    const credentials = adminCredentials(gatehouse.adminCredentialsFile);
    const client = new BedrockAgentCoreClient({ endpoint: gatehouse.url, region: gatehouse.config.region, credentials });
    try {
      const forJwt = await client.send(new GetWorkloadAccessTokenForJWTCommand({ workloadName: 'ext_agent', userToken: user.token }));
      const claims = JSON.parse(Buffer.from(forJwt.workloadAccessToken!.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      assert.equal(claims.sub, user.sub);
      assert.equal(claims.user_iss, issuer.issuer);
      assert.equal(claims.workload_name, 'ext_agent');
      const forUser = await client.send(new GetWorkloadAccessTokenForUserIdCommand({ workloadName: 'ext_agent', userId: 'asserted-user' }));
      const userClaims = JSON.parse(Buffer.from(forUser.workloadAccessToken!.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      assert.equal(userClaims.sub, 'asserted-user');
      assert.equal(userClaims.user_iss, 'urn:gatehouse:asserted-user-id', 'an asserted user id never passes for a verified user of any issuer');
      const own = await client.send(new GetWorkloadAccessTokenCommand({ workloadName: 'aud_agent' }));
      assert.ok(own.workloadAccessToken);
      await assert.rejects(client.send(new GetWorkloadAccessTokenCommand({ workloadName: 'no_such_workload' })), (error: Error) => error.name === 'ResourceNotFoundException' && /ext_agent/.test(error.message));
      await assert.rejects(client.send(new GetWorkloadAccessTokenForJWTCommand({ workloadName: 'ext_agent', userToken: `${user.token}x` })), (error: Error) => error.name === 'AccessDeniedException');
      await assert.rejects(client.send(new GetWorkloadAccessTokenForUserIdCommand({ workloadName: 'ext_agent', userId: '' })), (error: Error) => error.name === 'ValidationException' && /userId/.test(error.message));
    } finally {
      client.destroy();
    }
    // Unsigned, and signed with an unknown key: refused.
    const unsigned = await fetch(`${gatehouse.url}/identities/GetWorkloadAccessTokenForJWT`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ workloadName: 'ext_agent', userToken: user.token }) });
    assert.equal(unsigned.status, 403);
    assert.equal(unsigned.headers.get('x-amzn-errortype'), 'AccessDeniedException');
    assert.doesNotMatch(await unsigned.text(), /workloadAccessToken/);
    const stranger = new BedrockAgentCoreClient({ endpoint: gatehouse.url, region: gatehouse.config.region, credentials: { accessKeyId: 'AKIANOTAREALKEY00000', secretAccessKey: 'x'.repeat(40) } });
    await assert.rejects(stranger.send(new GetWorkloadAccessTokenForJWTCommand({ workloadName: 'ext_agent', userToken: user.token })), (error: Error) => error.name === 'AccessDeniedException');
    stranger.destroy();

    // The AWS CLI (v1 ships on the machine image): the command seed 000 grants the runtime's role.
    const cli = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('aws', ['bedrock-agentcore', 'get-workload-access-token-for-jwt', '--workload-name', 'ext_agent', '--user-token', user.token, '--endpoint-url', gatehouse.url, '--region', gatehouse.config.region, '--output', 'json'], {
        env: awsCliEnvironment(credentials),
        timeout: 60_000,
      }, (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr }));
    });
    if (cli.code === 127 || /ENOENT/.test(cli.stderr)) assert.fail('the AWS CLI is missing: install it with `pip install awscli` (or apt-get install awscli)');
    assert.equal(cli.code, 0, cli.stderr);
    const printed = JSON.parse(cli.stdout) as { workloadAccessToken: string };
    assert.equal(JSON.parse(Buffer.from(printed.workloadAccessToken.split('.')[1]!, 'base64url').toString('utf8')).sub, user.sub);
  });
});

test('the AgentCore Identity API never writes a token to the log', async () => {
  const lines: string[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-external-log-'));
  const issuer = await startTestIssuer();
  const gatehouse = await startGatehouse({
    dataDir: path.join(dir, 'data'),
    port: 0,
    logger: createLogger({ level: 'debug', destination: new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done(); } }) }),
    config: {
      tools: { sandbox: { enabled: false } },
      runtimes: [{ agentRuntimeName: 'ext_agent', agent: { url: 'http://127.0.0.1:9' }, authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: issuer.discoveryUrl, allowedClients: ['cognito-app'] } } }],
      gateways: [],
    },
  });
  try {
    const token = issuer.sign({ sub: 'logged-user', client_id: 'cognito-app' });
    const minted = await mintForJwt(gatehouse, 'ext_agent', token);
    await assert.rejects(mintForJwt(gatehouse, 'ext_agent', issuer.sign({ sub: 'logged-user', client_id: 'nope' })));
    const text = lines.join('');
    assert.match(text, /workload access token issued/);
    assert.match(text, /workload access token refused/);
    for (const secret of [token, minted, token.split('.')[2]!, minted.split('.')[2]!]) assert.ok(!text.includes(secret), 'no token or signature in the log');
  } finally {
    await gatehouse.close();
    await issuer.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

