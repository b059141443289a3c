// `npm run bench` section for the tools: the sandbox S3 front (SigV4 verify + policy + re-sign + proxy)
// against s3rver directly, side by side in one run; sandbox STS AssumeRole.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { S3Client, GetObjectCommand } from '@aws-sdk/client-s3';
import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
import { closeServer, createAppServer, createLogger, listen, parseConfig, EmbeddedStore, type BenchSection, type HttpComponent } from '@gatehouse/core';
import { createSandbox, type SigV4Key } from '../src/index.ts';

const ROUNDS = 6;
const PER_ROUND = 50;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}
function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
}
async function timeEach(count: number, work: () => Promise<unknown>, into: number[]): Promise<void> {
  for (let index = 0; index < count; index++) {
    const started = performance.now();
    await work();
    into.push(performance.now() - started);
  }
}

export async function bench(): Promise<BenchSection[]> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-tools-bench-'));
  const components: HttpComponent[] = [];
  const server = createAppServer(components);
  const port = await listen(server, 0);
  const baseUrl = `http://127.0.0.1:${port}`;
  const admin: SigV4Key = { secretAccessKey: 'bench-secret', principal: { subject: 'admin', arn: 'arn:aws:iam::000000000000:user/admin', permissions: ['*'] } };
  const sandbox = await createSandbox(
    { config: parseConfig({}), dataDir, baseUrl, logger: createLogger({ level: 'silent' }), clock: Date.now, store: new EmbeddedStore() },
    { lookupAccessKey: async (id) => (id === 'AKIABENCH' ? admin : undefined), verifyWebIdentity: async () => { throw new Error('not used'); } },
  );
  components.push(sandbox);
  // A second s3rver over the same files: the direct baseline for the same object.
  const S3rver = createRequire(import.meta.url)('s3rver') as new (options: Record<string, unknown>) => { run(): Promise<{ port: number }>; close(): Promise<void> };
  const direct = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: path.join(dataDir, 'sandbox-s3'), vhostBuckets: false });
  const directPort = (await direct.run()).port;
  const sts = new STSClient({ endpoint: sandbox.stsEndpoint, region: 'local', credentials: { accessKeyId: 'AKIABENCH', secretAccessKey: 'bench-secret' } });
  const assumed = await sts.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::111111111111:role/GatehouseOpsReadOnly', RoleSessionName: 'bench' }));
  const credentials = { accessKeyId: assumed.Credentials!.AccessKeyId!, secretAccessKey: assumed.Credentials!.SecretAccessKey!, sessionToken: assumed.Credentials!.SessionToken! };
  const throughFront = new S3Client({ endpoint: sandbox.s3Endpoint, forcePathStyle: true, region: 'us-east-1', credentials });
  const toS3rver = new S3Client({ endpoint: `http://127.0.0.1:${directPort}`, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  const read = (client: S3Client, bucket: string) => async () => {
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'invoices/INV-1001.txt' }));
    await object.Body!.transformToString();
  };

  const front: number[] = [];
  const baseline: number[] = [];
  const assume: number[] = [];
  try {
    await timeEach(20, read(throughFront, 'prod-customer-assets'), []);
    await timeEach(20, read(toS3rver, '111111111111-prod-customer-assets'), []);
    for (let round = 0; round < ROUNDS; round++) {
      await timeEach(PER_ROUND, read(toS3rver, '111111111111-prod-customer-assets'), baseline);
      await timeEach(PER_ROUND, read(throughFront, 'prod-customer-assets'), front);
    }
    await timeEach(100, () => sts.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::222222222222:role/GatehouseOpsReadOnly', RoleSessionName: 'bench' })), assume);
  } finally {
    throughFront.destroy();
    toS3rver.destroy();
    sts.destroy();
    await direct.close();
    await sandbox.close();
    await closeServer(server);
    rmSync(dataDir, { recursive: true, force: true });
  }
  const ratio = median(baseline) / median(front);
  return [
    {
      title: 'Ops tools sandbox (S3 front, STS)',
      rows: [
        { name: 'GetObject direct to s3rver, p50', value: median(baseline), unit: 'ms' },
        { name: 'GetObject through the SigV4-verifying S3 front, p50', value: median(front), unit: 'ms' },
        { name: 'GetObject through the front, p99', value: p99(front), unit: 'ms' },
        { name: 'Direct p50 ÷ front p50 (1.0 = no overhead)', value: ratio, unit: '×' },
        { name: 'STS AssumeRole (SigV4 verify + SQLite write), p50', value: median(assume), unit: 'ms' },
      ],
      notes: [`${ROUNDS} interleaved rounds of ${PER_ROUND} sequential requests each; same object, same files, one process.`],
    },
  ];
}
