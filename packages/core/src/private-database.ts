import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openDatabase, type Database } from './sqlite.ts';

const OWNER_ONLY = 0o600;

function restrict(file: string): void {
  for (const suffix of ['', '-wal', '-shm']) if (existsSync(file + suffix)) chmodSync(file + suffix, OWNER_ONLY);
}

/**
 * Opens a SQLite file that holds secrets, readable by its owner only (0600). The file is created empty with that
 * mode before SQLite opens it (SQLite gives its -wal and -shm files the database file's mode), and files left
 * by older versions with a wider mode are narrowed.
 */
export function openPrivateDatabase(file: string): Database {
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    try {
      writeFileSync(file, '', { mode: OWNER_ONLY, flag: 'wx' });
    } catch (error) {
      // Another process created it first; it is narrowed below.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  restrict(file);
  const database = openDatabase(file);
  restrict(file);
  return database;
}
