import type { AwsCall } from './parse-cli-command.ts';
import type { RoleCredentials } from './role-credentials.ts';
import { ToolError } from './tool-error.ts';

export interface RunOptions {
  readonly credentials: RoleCredentials;
  readonly region: string;
  readonly s3Endpoint?: string | undefined;
  readonly stsEndpoint?: string | undefined;
  readonly maxPages?: number;
  readonly maxChars?: number;
}

interface SdkModule {
  readonly [name: string]: unknown;
}
type SdkClient = { send(command: unknown): Promise<Record<string, unknown>>; destroy(): void };
type Constructor<T> = new (input: unknown) => T;
type Paginator = (config: { client: SdkClient; pageSize?: number }, input: unknown) => AsyncIterable<Record<string, unknown>>;

const DEFAULT_MAX_PAGES = 5;
const DEFAULT_MAX_CHARS = 40_000;
const BODY_LIMIT = 64 * 1024;

async function loadService(service: string): Promise<SdkModule> {
  if (!/^[a-z0-9-]{2,64}$/.test(service)) throw new ToolError('InvalidArguments', `"${service.slice(0, 64)}" is not an AWS service name`);
  const packageName = `@aws-sdk/client-${service}`;
  try {
    return (await import(packageName)) as SdkModule;
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') {
      throw new ToolError('ServiceNotAvailable', `AWS service "${service}" needs the package ${packageName}, which is not installed in this deployment (npm install ${packageName})`);
    }
    throw error;
  }
}

function clientClass(module: SdkModule, service: string): Constructor<SdkClient> {
  for (const [name, value] of Object.entries(module)) {
    if (/^[A-Z][A-Za-z0-9]*Client$/.test(name) && typeof value === 'function' && typeof (value as { prototype?: { send?: unknown } }).prototype?.send === 'function') {
      return value as Constructor<SdkClient>;
    }
  }
  throw new ToolError('ServiceNotAvailable', `@aws-sdk/client-${service} exports no client`);
}

function moreAvailable(page: Record<string, unknown>): boolean {
  if (page.IsTruncated === true) return true;
  return ['NextToken', 'NextContinuationToken', 'NextMarker', 'NextPageToken', 'Marker'].some((name) => typeof page[name] === 'string' && page[name] !== '');
}

function mergePages(pages: readonly Record<string, unknown>[]): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const page of pages) {
    for (const [name, value] of Object.entries(page)) {
      if (name === '$metadata') continue;
      const existing = merged[name];
      merged[name] = Array.isArray(existing) && Array.isArray(value) ? [...existing, ...value] : value;
    }
  }
  return merged;
}

async function readBody(body: unknown): Promise<{ text: string; truncated: boolean } | undefined> {
  if (!body || typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function') return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    chunks.push(Buffer.from(chunk));
    size += chunk.length;
    if (size >= BODY_LIMIT) {
      truncated = true;
      (body as { destroy?: () => void }).destroy?.();
      break;
    }
  }
  return { text: Buffer.concat(chunks).subarray(0, BODY_LIMIT).toString('utf8'), truncated };
}

/**
 * Keeps a result under `maxChars` of JSON by shortening its longest lists, and says so in `truncated`;
 * a result with nothing to shorten becomes a clearly marked text prefix. Never silently.
 */
export function limitResult(result: Record<string, unknown>, maxChars: number): Record<string, unknown> {
  let text = JSON.stringify(result);
  if (text.length <= maxChars) return result;
  const shortened: Record<string, unknown> = { ...result };
  const omitted: Record<string, number> = {};
  for (let attempt = 0; attempt < 20 && text.length > maxChars; attempt++) {
    const lists = Object.entries(shortened).filter((entry): entry is [string, unknown[]] => Array.isArray(entry[1]) && entry[1].length > 1);
    if (lists.length === 0) break;
    const [name, list] = lists.reduce((longest, entry) => (JSON.stringify(entry[1]).length > JSON.stringify(longest[1]).length ? entry : longest));
    const keep = Math.max(1, Math.floor(list.length * (maxChars / text.length) * 0.9));
    omitted[name] = (omitted[name] ?? 0) + list.length - keep;
    shortened[name] = list.slice(0, keep);
    text = JSON.stringify(shortened);
  }
  if (text.length <= maxChars) {
    return { ...shortened, truncated: { reason: `result exceeded ${maxChars} characters`, omittedItems: omitted, hint: 'narrow the request (prefix, filters, max items)' } };
  }
  return { truncated: { reason: `result exceeded ${maxChars} characters`, hint: 'narrow the request (prefix, filters, max items)' }, partialJson: `${text.slice(0, maxChars)}…[truncated]` };
}

/** Runs one AWS API call with AWS SDK v3 using the assumed-role credentials; paginates up to `maxPages`. */
export async function runAwsCall(call: AwsCall, options: RunOptions): Promise<Record<string, unknown>> {
  const module = await loadService(call.service);
  const Client = clientClass(module, call.service);
  const Command = module[`${call.operation}Command`] as Constructor<unknown> | undefined;
  if (typeof Command !== 'function') throw new ToolError('InvalidArguments', `${call.service} has no operation ${call.operation} in @aws-sdk/client-${call.service}`);
  const endpoint = call.service === 's3' ? options.s3Endpoint : call.service === 'sts' ? options.stsEndpoint : undefined;
  const client = new Client({
    region: call.region ?? options.region,
    credentials: { accessKeyId: options.credentials.accessKeyId, secretAccessKey: options.credentials.secretAccessKey, sessionToken: options.credentials.sessionToken },
    maxAttempts: 2,
    ...(endpoint ? { endpoint } : {}),
    ...(call.service === 's3' ? { forcePathStyle: Boolean(endpoint), requestChecksumCalculation: 'WHEN_REQUIRED' } : {}),
  });
  try {
    const paginate = module[`paginate${call.operation}`] as Paginator | undefined;
    const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
    let result: Record<string, unknown>;
    let pagesTruncated = false;
    if (typeof paginate === 'function') {
      const pages: Record<string, unknown>[] = [];
      for await (const page of paginate({ client }, call.params)) {
        pages.push(page);
        if (pages.length >= maxPages) {
          pagesTruncated = moreAvailable(page);
          break;
        }
      }
      result = mergePages(pages);
    } else {
      result = mergePages([await client.send(new Command(call.params))]);
    }
    if ('Body' in result) {
      const body = await readBody(result.Body);
      if (body) result = { ...result, Body: body.text, ...(body.truncated ? { BodyTruncated: `only the first ${BODY_LIMIT} bytes are shown` } : {}) };
    }
    const limited = limitResult(JSON.parse(JSON.stringify(result)) as Record<string, unknown>, options.maxChars ?? DEFAULT_MAX_CHARS);
    return pagesTruncated ? { ...limited, moreResults: `stopped after ${maxPages} pages; more results exist (pass the next token to continue)` } : limited;
  } catch (error) {
    if (error instanceof ToolError) throw error;
    const name = (error as Error).name;
    if (name === 'TypeError' || name === 'SyntaxError') throw error;
    const message = (error as Error).message;
    if (name === 'AccessDenied' || name === 'AccessDeniedException' || name === 'UnauthorizedOperation') {
      throw new ToolError('AccessDenied', `${call.service}:${call.operation} was refused in the target account: ${message}`);
    }
    throw new ToolError('AwsError', `${call.service}:${call.operation} failed: ${name}: ${message}`);
  } finally {
    client.destroy();
  }
}
