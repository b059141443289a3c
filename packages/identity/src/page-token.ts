import { CognitoError } from './cognito-error.ts';

/**
 * List pagination: items are read in the order of a unique key (user name, group name…) and a page
 * token carries the last key of the page, so pages stay consistent while items come and go.
 */
export function pageToken(after: string): string {
  return Buffer.from(JSON.stringify({ after }), 'utf8').toString('base64url');
}

/** The key a token continues after; a token this server did not write is refused naming the member. */
export function readPageToken(token: string | undefined, member: string): string | undefined {
  if (token === undefined) return undefined;
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (value !== null && typeof value === 'object' && typeof (value as { after?: unknown }).after === 'string') return (value as { after: string }).after;
  } catch {
    // falls through to the refusal
  }
  throw new CognitoError('InvalidParameterException', `Invalid value for parameter ${member}: pass the token from the previous response unchanged`);
}

/**
 * One page of at most `limit` items that pass `keep`, read in batches from `read(after, batch)`;
 * `next` is set only when at least one more item exists.
 */
export interface PageRequest<T> {
  readonly read: (after: string | undefined, batch: number) => Promise<T[]>;
  readonly key: (item: T) => string;
  readonly after: string | undefined;
  readonly limit: number;
  readonly keep?: (item: T) => boolean;
}

export async function readPage<T>({ read, key, after, limit, keep = () => true }: PageRequest<T>): Promise<{ items: T[]; next: string | undefined }> {
  const items: T[] = [];
  const batch = Math.max(limit + 1, 100);
  let cursor = after;
  for (;;) {
    const rows = await read(cursor, batch);
    for (const row of rows) {
      if (!keep(row)) continue;
      if (items.length === limit) return { items, next: pageToken(key(items[items.length - 1]!)) };
      items.push(row);
    }
    if (rows.length < batch) return { items, next: undefined };
    cursor = key(rows[rows.length - 1]!);
  }
}
