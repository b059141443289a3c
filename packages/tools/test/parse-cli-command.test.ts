import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCliCommand } from '../src/parse-cli-command.ts';
import { ToolError } from '../src/tool-error.ts';

test('parses "aws s3 ls" into ListBuckets and a bucket path into ListObjectsV2', () => {
  assert.deepEqual(parseCliCommand('aws s3 ls'), { service: 's3', operation: 'ListBuckets', params: {} });
  assert.deepEqual(parseCliCommand('aws s3 ls s3://prod-app-logs/app/2026/'), {
    service: 's3', operation: 'ListObjectsV2', params: { Bucket: 'prod-app-logs', Prefix: 'app/2026/', Delimiter: '/' },
  });
  assert.deepEqual(parseCliCommand('aws s3 ls s3://b --recursive --region eu-west-1'), { service: 's3', operation: 'ListObjectsV2', params: { Bucket: 'b' }, region: 'eu-west-1' });
});

test('parses s3api and other services with kebab options into PascalCase parameters', () => {
  assert.deepEqual(parseCliCommand('aws s3api list-objects-v2 --bucket "my bucket" --max-keys 5'), {
    service: 's3', operation: 'ListObjectsV2', params: { Bucket: 'my bucket', MaxKeys: 5 },
  });
  assert.deepEqual(parseCliCommand('aws ec2 describe-instances --instance-ids i-1 i-2 --dry-run'), {
    service: 'ec2', operation: 'DescribeInstances', params: { InstanceIds: ['i-1', 'i-2'], DryRun: true },
  });
  assert.deepEqual(parseCliCommand("aws logs describe-log-groups --output json --filters '{\"a\":1}'"), {
    service: 'cloudwatch-logs', operation: 'DescribeLogGroups', params: { Filters: { a: 1 } },
  });
});

test('refuses shell lines, commands not starting with aws, and mutating s3 shortcuts', () => {
  assert.throws(() => parseCliCommand('aws s3 ls; rm -rf /'), ToolError);
  assert.throws(() => parseCliCommand('ls -la'), /must start with "aws"/);
  assert.throws(() => parseCliCommand('aws s3 rm s3://b/k'), { code: 'OperationNotAllowed' });
  assert.throws(() => parseCliCommand('aws s3'), /needs a service and an operation/);
});

test('limitResult shortens the longest list under the cap and says how much it left out', async () => {
  const { limitResult } = await import('../src/run-aws-call.ts');
  const items = Array.from({ length: 500 }, (_, index) => ({ Key: `logs/${String(index).padStart(4, '0')}.txt`, Size: index }));
  const small = { Name: 'b', Contents: items.slice(0, 3) };
  assert.deepEqual(limitResult(small, 40_000), small);
  const limited = limitResult({ Name: 'b', Contents: items }, 2_000) as { Name: string; Contents: unknown[]; truncated: { omittedItems: Record<string, number> } };
  assert.ok(JSON.stringify(limited).length <= 2_300);
  assert.equal(limited.Name, 'b');
  assert.deepEqual(limited.Contents, items.slice(0, limited.Contents.length));
  assert.equal(limited.truncated.omittedItems.Contents, 500 - limited.Contents.length);
  const text = limitResult({ Body: 'x'.repeat(5_000) }, 1_000) as { partialJson: string; truncated: unknown };
  assert.ok(text.partialJson.endsWith('…[truncated]'));
  assert.ok(text.truncated);
});
