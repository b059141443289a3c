import { fieldError } from './control-plane-error.ts';

export interface Page<T> {
  readonly items: T[];
  readonly nextToken?: string;
}

/**
 * One page of a list, with AWS's `maxResults` / `nextToken` (read from the query for GET and path-style
 * lists, from the body for the identity lists). The token is an opaque offset.
 */
export function paginate<T>(items: readonly T[], maxResults: unknown, nextToken: unknown, limit = 100): Page<T> {
  let size = limit;
  if (maxResults !== undefined && maxResults !== null && maxResults !== '') {
    const parsed = typeof maxResults === 'string' ? Number(maxResults) : maxResults;
    if (typeof parsed !== 'number' || !Number.isInteger(parsed) || parsed < 1 || parsed > limit) throw fieldError('maxResults', `must be an integer from 1 to ${limit}`);
    size = parsed;
  }
  let start = 0;
  if (nextToken !== undefined && nextToken !== null && nextToken !== '') {
    const decoded = typeof nextToken === 'string' && /^[A-Za-z0-9_-]{1,16}$/.test(nextToken) ? Number(Buffer.from(nextToken, 'base64url').toString('utf8')) : Number.NaN;
    if (!Number.isInteger(decoded) || decoded < 0) throw fieldError('nextToken', 'is not a token this API returned; pass the nextToken of the previous page unchanged');
    start = decoded;
  }
  const page = items.slice(start, start + size);
  const next = start + size;
  return next < items.length ? { items: page, nextToken: Buffer.from(String(next), 'utf8').toString('base64url') } : { items: page };
}
