import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const SEALING_KEY_FILE = 'store-sealing.key';

/**
 * The AES-256 key for values sealed in the shared store, kept in the data dir (mode 0600).
 * Created on first use with an exclusive write, so two instances starting together on one data dir
 * end up with the same key. Instances on different machines that share a Redis need the same file
 * (copy it, or point `GATEHOUSE_STORE_KEY` at 64 hex characters).
 */
export function loadSealingKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  const fromEnv = env.GATEHOUSE_STORE_KEY;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!/^[0-9a-fA-F]{64}$/.test(fromEnv)) throw new RangeError('GATEHOUSE_STORE_KEY must be 64 hex characters (32 bytes)');
    return Buffer.from(fromEnv, 'hex');
  }
  const file = path.join(dataDir, SEALING_KEY_FILE);
  mkdirSync(dataDir, { recursive: true });
  // Written whole to a private temp file, then linked into place: link() fails if the key exists, so
  // a concurrent starter never reads a half-written key, and the first writer wins.
  if (!existsSync(file)) createKeyFile(file);
  const text = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(text)) throw new RangeError(`${file} must hold 64 hex characters (32 bytes); delete it to generate a new key`);
  return Buffer.from(text, 'hex');
}

function createKeyFile(file: string): void {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, randomBytes(32).toString('hex') + '\n', { flag: 'wx', mode: 0o600 });
  try {
    linkSync(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temp);
  }
}
