import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openDatabase, type Database } from './sqlite.ts';

const OWNER_ONLY = 0o600;

/** Narrows a SQLite file and its -wal/-shm files to their owner (0600). */
export function restrictPrivateFile(file: string): void {
  for (const suffix of ['', '-wal', '-shm']) if (existsSync(file + suffix)) chmodSync(file + suffix, OWNER_ONLY);
}

/**
 * Before SQLite opens a file that holds secrets: created empty with mode 0600 (SQLite gives its -wal and
 * -shm files the database file's mode), and a file left by an older version with a wider mode narrowed.
 */
export function preparePrivateFile(file: string): void {
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    try {
      writeFileSync(file, '', { mode: OWNER_ONLY, flag: 'wx' });
    } catch (error) {
      // Another process created it first; it is narrowed below.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  restrictPrivateFile(file);
}

/** Opens a SQLite file that holds secrets, readable by its owner only (0600). */
export function openPrivateDatabase(file: string): Database {
  preparePrivateFile(file);
  const database = openDatabase(file);
  restrictPrivateFile(file);
  return database;
}
