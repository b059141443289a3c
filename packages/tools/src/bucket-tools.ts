import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { roleArnFor } from './account.ts';
import { readWriteRoleArn, type OpsToolContext, type ToolTarget } from './ops-tool-context.ts';
import { parseArguments, type ToolArguments } from './tool-arguments.ts';

const TEXT_LIMIT = 64 * 1024;

/** `bucket_objects_list`: one page of a bucket's keys, with the account's read role. */
export async function bucketObjectsList(tools: OpsToolContext, event: unknown, context: unknown): Promise<unknown> {
  const input = parseArguments('bucket_objects_list', event);
  const target = await tools.target(input.account, context);
  const { account } = target;
  return tools.withS3({ target, roleArn: roleArnFor(account), action: `Listing s3://${input.bucket}` }, async (client) => {
    const page = await client.send(new ListObjectsV2Command({
      Bucket: input.bucket,
      MaxKeys: input.max_keys,
      ...(input.prefix ? { Prefix: input.prefix } : {}),
      ...(input.continuation_token ? { ContinuationToken: input.continuation_token } : {}),
    }));
    return {
      account: account.name,
      bucket: input.bucket,
      prefix: input.prefix ?? '',
      objects: (page.Contents ?? []).map((object) => ({ key: object.Key, size: object.Size, last_modified: object.LastModified?.toISOString() })),
      truncated: page.IsTruncated === true,
      ...(page.NextContinuationToken ? { next_continuation_token: page.NextContinuationToken } : {}),
    };
  });
}

/** `bucket_object_get`: an object's first 64 KiB as text (binary objects are named, not shown). */
export async function bucketObjectGet(tools: OpsToolContext, event: unknown, context: unknown): Promise<unknown> {
  const input = parseArguments('bucket_object_get', event);
  const target = await tools.target(input.account, context);
  const { account } = target;
  return tools.withS3({ target, roleArn: roleArnFor(account), action: `Reading s3://${input.bucket}/${input.key}` }, async (client) => {
    const object = await client.send(new GetObjectCommand({ Bucket: input.bucket, Key: input.key }));
    const { bytes, size } = await readPrefix(object.Body as Readable | undefined);
    const text = bytes.toString('utf8');
    const base = { account: account.name, bucket: input.bucket, key: input.key, content_type: object.ContentType, size: object.ContentLength };
    if (bytes.includes(0) || text.includes('\uFFFD')) return { ...base, binary: true, note: 'binary object: content not shown' };
    return { ...base, text, truncated: size > TEXT_LIMIT, ...(size > TEXT_LIMIT ? { note: `only the first ${TEXT_LIMIT} bytes are shown` } : {}) };
  });
}

/** Reads up to just past TEXT_LIMIT bytes, then stops the download; `size` says whether there was more. */
async function readPrefix(body: Readable | undefined): Promise<{ bytes: Buffer; size: number }> {
  const chunks: Buffer[] = [];
  let size = 0;
  if (body) {
    for await (const chunk of body) {
      chunks.push(Buffer.from(chunk as Uint8Array));
      size += (chunk as Uint8Array).length;
      if (size > TEXT_LIMIT) {
        body.destroy();
        break;
      }
    }
  }
  return { bytes: Buffer.concat(chunks).subarray(0, TEXT_LIMIT), size };
}

/** `bucket_objects_put`: writes one text object with the account's read-write role. */
export async function bucketObjectsPut(tools: OpsToolContext, event: unknown, context: unknown): Promise<unknown> {
  const input = parseArguments('bucket_objects_put', event);
  const target = await tools.target(input.account, context);
  const { account } = target;
  return tools.withS3({ target, roleArn: readWriteRoleArn(account), action: `Writing s3://${input.bucket}/${input.key}` }, async (client) => {
    const result = await client.send(new PutObjectCommand({ Bucket: input.bucket, Key: input.key, Body: input.body, ContentType: input.content_type ?? 'text/plain; charset=utf-8' }));
    return { account: account.name, bucket: input.bucket, key: input.key, size: Buffer.byteLength(input.body), etag: result.ETag };
  });
}

interface AccessCheck {
  readonly tools: OpsToolContext;
  readonly target: ToolTarget;
  readonly input: ToolArguments<'bucket_access_check'>;
  readonly summary: Record<string, boolean>;
  readonly details: Record<string, string>;
}

/** `bucket_access_check`: whether the caller may list, read and write a bucket; it never writes. */
export async function bucketAccessCheck(tools: OpsToolContext, event: unknown, context: unknown): Promise<unknown> {
  const input = parseArguments('bucket_access_check', event);
  const target = await tools.target(input.account, context);
  const check: AccessCheck = { tools, target, input, summary: {}, details: {} };
  let firstKey: string | undefined;
  if (input.operations.includes('list') || input.operations.includes('read')) firstKey = await checkList(check);
  if (input.operations.includes('read')) await checkRead(check, firstKey);
  if (input.operations.includes('write')) await checkWrite(check);
  return { account: target.account.name, bucket: input.bucket, access_summary: check.summary, details: check.details };
}

/** Lists one key; returns it (the read check heads it). */
async function checkList({ tools, target, input, summary, details }: AccessCheck): Promise<string | undefined> {
  const roleArn = roleArnFor(target.account);
  try {
    const firstKey = await tools.withS3({ target, roleArn, action: `Listing s3://${input.bucket}` }, async (client) => {
      const page = await client.send(new ListObjectsV2Command({ Bucket: input.bucket, MaxKeys: 1 }));
      return page.Contents?.[0]?.Key;
    });
    summary.can_list = true;
    details.list = `allowed with ${roleArn}`;
    return firstKey;
  } catch (error) {
    summary.can_list = false;
    details.list = (error as Error).message;
    return undefined;
  }
}

async function checkRead({ tools, target, input, summary, details }: AccessCheck, firstKey: string | undefined): Promise<void> {
  if (!summary.can_list) {
    summary.can_read = false;
    details.read = 'not checked: the bucket cannot be listed';
  } else if (firstKey === undefined) {
    summary.can_read = true;
    details.read = 'bucket is empty; the role allows s3:GetObject';
  } else {
    try {
      const key = firstKey;
      await tools.withS3({ target, roleArn: roleArnFor(target.account), action: `Reading s3://${input.bucket}/${key}` }, (client) => client.send(new HeadObjectCommand({ Bucket: input.bucket, Key: key })));
      summary.can_read = true;
      details.read = `allowed (checked with HeadObject on ${key})`;
    } catch (error) {
      summary.can_read = false;
      details.read = (error as Error).message;
    }
  }
}

/** Decided by whether the user may assume the read-write role; nothing is written. */
async function checkWrite({ tools, target, summary, details }: AccessCheck): Promise<void> {
  const roleArn = readWriteRoleArn(target.account);
  try {
    await tools.roles.credentialsFor(target.caller, target.account, roleArn);
    summary.can_write = true;
    details.write = `allowed with ${roleArn} (not exercised)`;
  } catch (error) {
    summary.can_write = false;
    details.write = (error as Error).message;
  }
}
