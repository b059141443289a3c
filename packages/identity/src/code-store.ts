import { createHash, randomInt } from 'node:crypto';
import type { SqlDatabase } from '@gatehouse/core';
import { constantTimeEqual } from './client-secret.ts';

/** What a code proves: a password reset, or that the user reads the mailbox / phone of an attribute. */
export type CodePurpose = 'reset-password' | `verify:${string}`;

export type CodeCheck = 'ok' | 'mismatch' | 'expired' | 'absent';

/** Wrong guesses a code survives; then it is gone and a new one must be requested (six digits must not be guessable by many IPs). */
const MAX_ATTEMPTS = 5;

/** A uniformly random six-digit code, as Cognito sends. */
export function sixDigitCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

const digest = (poolId: string, username: string, purpose: CodePurpose, code: string): string =>
  createHash('sha256').update(`${poolId}\n${username}\n${purpose}\n${code}`, 'utf8').digest('base64url');

/** One-time six-digit codes (password reset, attribute verification), stored hashed, one per user and purpose. */
export class CodeStore {
  readonly #database: SqlDatabase;
  readonly #now: () => number;
  constructor(database: SqlDatabase, now: () => number) {
    this.#database = database;
    this.#now = now;
  }

  /** A new code replaces the previous one of the same purpose. */
  async issue(poolId: string, username: string, purpose: CodePurpose, ttlMs: number): Promise<string> {
    const code = sixDigitCode();
    (await this.#database.run('INSERT INTO user_codes (pool_id, username, purpose, code_hash, expires_at, attempts) VALUES (?, ?, ?, ?, ?, 0) ' +
          'ON CONFLICT(pool_id, username, purpose) DO UPDATE SET code_hash = excluded.code_hash, expires_at = excluded.expires_at, attempts = 0', [poolId, username, purpose, digest(poolId, username, purpose, code), this.#now() + ttlMs]));
    return code;
  }

  /** Single use: a right code is consumed; a wrong one counts toward MAX_ATTEMPTS. */
  async check(poolId: string, username: string, purpose: CodePurpose, code: string): Promise<CodeCheck> {
    return this.#database.transaction(async () => {
      const row = (await this.#database.one('SELECT code_hash, expires_at, attempts FROM user_codes WHERE pool_id = ? AND username = ? AND purpose = ?', [poolId, username, purpose])) as
        | { code_hash: string; expires_at: number; attempts: number }
        | undefined;
      if (!row) return 'absent';
      const remove = async (): Promise<void> => {
        await this.#database.run('DELETE FROM user_codes WHERE pool_id = ? AND username = ? AND purpose = ?', [poolId, username, purpose]);
      };
      if (!constantTimeEqual(row.code_hash, digest(poolId, username, purpose, code))) {
        if (Number(row.attempts) + 1 >= MAX_ATTEMPTS) await remove();
        else (await this.#database.run('UPDATE user_codes SET attempts = attempts + 1 WHERE pool_id = ? AND username = ? AND purpose = ?', [poolId, username, purpose]));
        return 'mismatch';
      }
      await remove();
      return Number(row.expires_at) <= this.#now() ? 'expired' : 'ok';
    });
  }

  async discard(poolId: string, username: string, purpose: CodePurpose): Promise<void> {
    await this.#database.run('DELETE FROM user_codes WHERE pool_id = ? AND username = ? AND purpose = ?', [poolId, username, purpose]);
  }
}
