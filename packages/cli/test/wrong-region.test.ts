import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BedrockAgentCoreClient, GetWorkloadAccessTokenCommand, InvokeAgentRuntimeCommand } from '@aws-sdk/client-bedrock-agentcore';
import { AdminGetUserCommand, CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { fromIni } from '@aws-sdk/credential-providers';
import { startGatehouse, type RunningGatehouse } from '../src/index.ts';

const echoAgent = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples', 'echo-agent', 'agent.mjs');
let running: RunningGatehouse;
let credentials: ReturnType<typeof fromIni>;

before(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-region-'));
  running = await startGatehouse({
    port: 0, dataDir: path.join(dir, 'data'), logLevel: 'warn', webDistDirectory: path.join(dir, 'no-ui'),
    config: { runtimes: [{ agentRuntimeName: 'echo', agent: { command: [process.execPath, echoAgent] } }] },
  });
  credentials = fromIni({ filepath: running.adminCredentialsFile, profile: 'default' });
});
after(async () => running?.close());

interface SdkError extends Error {
  $metadata?: { httpStatusCode?: number };
}

function refusedForRegion(surface: string): (error: SdkError) => boolean {
  return (error) => {
    assert.ok([400, 403].includes(error.$metadata?.httpStatusCode ?? 0), `${surface}: ${error.$metadata?.httpStatusCode} ${error.name} ${error.message}`);
    const region = running.config.region;
    assert.match(error.message, new RegExp(`signed for region 'eu-west-1', but this server signs for '${region}'\\. Set the client's region to '${region}'`), `${surface}: ${error.message}`);
    return true;
  };
}

test('a Cognito admin call signed for another region is refused with the region this server signs for, and the right region works', async () => {
  const wrong = new CognitoIdentityProviderClient({ endpoint: running.url, region: 'eu-west-1', credentials, maxAttempts: 1 });
  await assert.rejects(wrong.send(new AdminGetUserCommand({ UserPoolId: running.settings.userPoolId, Username: 'admin' })), refusedForRegion('cognito-idp'));
  const right = new CognitoIdentityProviderClient({ endpoint: running.url, region: running.config.region, credentials, maxAttempts: 1 });
  assert.equal((await right.send(new AdminGetUserCommand({ UserPoolId: running.settings.userPoolId, Username: 'admin' }))).Username, 'admin');
});

test('a runtime invocation signed for another region is refused with the region this server signs for, and the right region works', async () => {
  const input = {
    agentRuntimeArn: `arn:aws:bedrock-agentcore:${running.config.region}:000000000000:runtime/echo`,
    runtimeSessionId: `region-session-${'x'.repeat(30)}`, contentType: 'application/json', accept: 'application/json',
    payload: Buffer.from(JSON.stringify({ prompt: 'hello' })),
  };
  const wrong = new BedrockAgentCoreClient({ endpoint: running.url, region: 'eu-west-1', credentials, maxAttempts: 1 });
  await assert.rejects(wrong.send(new InvokeAgentRuntimeCommand(input)), refusedForRegion('runtime'));
  const right = new BedrockAgentCoreClient({ endpoint: running.url, region: running.config.region, credentials, maxAttempts: 1 });
  assert.equal((await right.send(new InvokeAgentRuntimeCommand(input))).$metadata.httpStatusCode, 200);
});

test('an AgentCore Identity call signed for another region is refused with the region this server signs for', async () => {
  const wrong = new BedrockAgentCoreClient({ endpoint: running.url, region: 'eu-west-1', credentials, maxAttempts: 1 });
  await assert.rejects(wrong.send(new GetWorkloadAccessTokenCommand({ workloadName: 'no-such-workload' })), refusedForRegion('identities'));
  const right = new BedrockAgentCoreClient({ endpoint: running.url, region: running.config.region, credentials, maxAttempts: 1 });
  // signed right, the same call gets past SigV4 to the workload lookup
  await assert.rejects(right.send(new GetWorkloadAccessTokenCommand({ workloadName: 'no-such-workload' })), (error: SdkError) => {
    assert.notEqual(error.$metadata?.httpStatusCode, 403, error.message);
    return true;
  });
});
