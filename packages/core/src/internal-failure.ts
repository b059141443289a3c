import type { IncomingMessage } from 'node:http';
import { asCallTimeout, type CallTimeoutError } from './call-failure.ts';
import { BodyTooLargeError, readBody } from './http.ts';
import { JsonTooDeepError } from './json-depth.ts';
import { StoreUnavailableError } from './shared-store.ts';
import { DatabaseUnavailableError } from './sql/sql-database.ts';

/** The internal failures that every surface answers in its own wire shape, by type — never by message text. */
export interface InternalFailures {
  readonly bodyTooLarge: BodyTooLargeError;
  readonly jsonTooDeep: JsonTooDeepError;
  readonly storeUnavailable: StoreUnavailableError;
  /** The SQL database (SQLite or the shared PostgreSQL) did not answer: nothing was decided without it. */
  readonly databaseUnavailable: DatabaseUnavailableError;
  /** An upstream or store call that did not answer in time (ours, `AbortSignal.timeout`'s or undici's, see asCallTimeout). */
  readonly timeout: CallTimeoutError;
}

/** One surface's typed table: its own error for each internal failure it answers (the others pass through). */
export type FailureTable<E extends Error> = { readonly [K in keyof InternalFailures]?: (failure: InternalFailures[K]) => E };

/**
 * The surface's error for `error` from its table, or undefined when the table does not map it. A store that timed out
 * is reported as unavailable (its own error, matched first); any other timeout as `timeout`.
 */
export function failureFor<E extends Error>(table: FailureTable<E>, error: unknown): E | undefined {
  if (error instanceof BodyTooLargeError) return table.bodyTooLarge?.(error);
  if (error instanceof JsonTooDeepError) return table.jsonTooDeep?.(error);
  if (error instanceof StoreUnavailableError) return table.storeUnavailable?.(error);
  if (error instanceof DatabaseUnavailableError) return table.databaseUnavailable?.(error);
  const timeout = asCallTimeout(error);
  return timeout === undefined ? undefined : table.timeout?.(timeout);
}

/** `readBody`, with a body over `limit` thrown as the surface's own error from its table. */
export async function readBodyFor<E extends Error>(request: IncomingMessage, limit: number, table: FailureTable<E>): Promise<Buffer> {
  try {
    return await readBody(request, limit);
  } catch (error) {
    throw failureFor(table, error) ?? error;
  }
}
