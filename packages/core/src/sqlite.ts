import { DatabaseSync } from 'node:sqlite';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export type Database = DatabaseSync;

/**
 * Opens (creating if needed) a SQLite file with settings that keep acknowledged writes across
 * `kill -9`: WAL journal, synchronous=FULL, and a busy timeout so several processes can share it.
 */
export function openDatabase(file: string): Database {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const database = new DatabaseSync(file);
  // busy_timeout first: switching to WAL takes a lock, and instances started together on one data
  // dir would otherwise fail at once with "database is locked" instead of waiting their turn.
  database.exec('PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;');
  return database;
}

/** Runs `work` in one IMMEDIATE transaction: all of it is written, or none of it. */
export function transaction<T>(database: Database, work: () => T): T {
  database.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    database.exec('COMMIT');
    return result;
  } catch (error) {
    database.exec('ROLLBACK');
    throw error;
  }
}
