import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { startTestIssuer, type TestIssuer } from '@gatehouse/testing/test-issuer';
import { DEFAULT_POLICIES } from '../src/index.ts';
import { MCP_HEADERS, connectClient, rpc, startGatewayStack, type GatewayStack } from '@gatehouse/testing/gateway-stack';
import { startBucketApi, BUCKET_OPENAPI, type BucketApi } from './support/bucket-api.ts';

// The seeds' S3 story against a real local HTTP target: read-only users list, read-write users put,
// a call without the user's token never reaches the bucket.
describe('bucket tools behind the gateway with the default Cedar policy', () => {
  let issuer: TestIssuer;
  let bucket: BucketApi;
  let stack: GatewayStack;
  let url: string;

  before(async () => {
    issuer = await startTestIssuer();
    bucket = await startBucketApi();
    stack = await startGatewayStack([
      {
        name: 'ops',
        authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: issuer.discoveryUrl, allowedClients: ['test-client'] } },
        targets: [
          {
            name: 's3',
            targetConfiguration: { mcp: { openApiSchema: { inlinePayload: BUCKET_OPENAPI }, baseUrl: bucket.url } },
            credentialProviderConfigurations: [{ credentialProviderType: 'API_KEY', apiKeyCredentialProvider: { secretName: 'bucket-key', credentialParameterName: 'x-api-key' } }],
          },
        ],
      },
    ]);
    process.env.GATEHOUSE_SECRET_BUCKET_KEY = bucket.apiKey;
    url = `${stack.baseUrl}/gateways/ops/mcp`;
  });

  after(async () => {
    delete process.env.GATEHOUSE_SECRET_BUCKET_KEY;
    await stack.close();
    await bucket.close();
    await issuer.close();
  });

  test('writes the default policy file on first start', () => {
    assert.equal(readFileSync(path.join(stack.dataDir, 'policies', 'ops.cedar'), 'utf8'), DEFAULT_POLICIES);
  });

  test('a read-only user lists objects but neither sees nor may call the put tool', async () => {
    const { client } = await connectClient(url, issuer.sign({ sub: 'reader', username: 'reader', 'cognito:groups': ['ops-readonly'] }));
    try {
      const names = (await client.listTools()).tools.map((tool) => tool.name).sort();
      assert.deepEqual(names, ['s3___bucket_objects_list', 'x_amz_bedrock_agentcore_search']);
      const listed = await client.callTool({ name: 's3___bucket_objects_list', arguments: { bucket: 'reports' } });
      assert.deepEqual(listed.structuredContent, { bucket: 'reports', keys: ['q1.csv'] });
      const putsBefore = bucket.puts.length;
      await assert.rejects(
        client.callTool({ name: 's3___bucket_objects_put', arguments: { bucket: 'reports', key: 'q2.csv', body: { content: 'x' } } }),
        (error: unknown) => error instanceof McpError && error.code === -32003 && /Policy decision DENY/.test(error.message),
      );
      assert.equal(bucket.puts.length, putsBefore, 'the bucket received no put');
      // the search tool only ranks what this user may call
      const search = await client.callTool({ name: 'x_amz_bedrock_agentcore_search', arguments: { query: 'put an object into a bucket' } });
      assert.ok((search.structuredContent as { tools: { name: string }[] }).tools.every((tool) => tool.name !== 's3___bucket_objects_put'));
    } finally {
      await client.close();
    }
  });

  test('a read-write user puts an object, sent with the API key and not the user token', async () => {
    const { client } = await connectClient(url, issuer.sign({ sub: 'writer', username: 'writer', 'cognito:groups': ['ops-readwrite'] }));
    try {
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      assert.ok(names.includes('s3___bucket_objects_put'));
      const put = await client.callTool({ name: 's3___bucket_objects_put', arguments: { bucket: 'reports', key: 'q2.csv', body: { content: 'numbers' } } });
      assert.equal(put.isError, undefined);
      assert.deepEqual(bucket.puts.at(-1), { bucket: 'reports', key: 'q2.csv', content: 'numbers', apiKey: bucket.apiKey, authorization: undefined });
    } finally {
      await client.close();
    }
  });

  test('a tool call without a user token never reaches the bucket', async () => {
    const seen = bucket.requests.length;
    const response = await fetch(url, { method: 'POST', headers: MCP_HEADERS, body: rpc('tools/call', { name: 's3___bucket_objects_put', arguments: { bucket: 'reports', key: 'evil', body: { content: 'x' } } }) });
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate') ?? '', /resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/gateways\/ops\/mcp"/);
    const expired = await fetch(url, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${issuer.sign({ sub: 'writer', 'cognito:groups': ['ops-readwrite'], exp: Math.floor(Date.now() / 1000) - 3600 })}` }, body: rpc('tools/call', { name: 's3___bucket_objects_put', arguments: {} }) });
    assert.equal(expired.status, 401);
    assert.equal(bucket.requests.length, seen, 'the bucket saw nothing');
  });

  test('a missing API key secret fails the call closed without reaching the bucket', async () => {
    const saved = process.env.GATEHOUSE_SECRET_BUCKET_KEY;
    delete process.env.GATEHOUSE_SECRET_BUCKET_KEY;
    const { client } = await connectClient(url, issuer.sign({ sub: 'reader', 'cognito:groups': ['ops-readonly'] }));
    try {
      const seen = bucket.requests.length;
      const result = await client.callTool({ name: 's3___bucket_objects_list', arguments: { bucket: 'reports' } });
      assert.equal(result.isError, true);
      assert.match(JSON.stringify(result.content), /CredentialsUnavailable/);
      assert.equal(bucket.requests.length, seen);
    } finally {
      process.env.GATEHOUSE_SECRET_BUCKET_KEY = saved;
      await client.close();
    }
  });
});
