import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const COST = 16384;
const BLOCK = 8;
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, cost: number, block: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, { N: cost, r: block, p: 1, maxmem: 64 * 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** `scrypt$N$r$salt$hash` (base64url parts), self-describing so the cost can be raised later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, COST, BLOCK);
  return `scrypt$${COST}$${BLOCK}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** A dummy hash checked for unknown users, so both paths take the same time. */
export const DUMMY_HASH = `scrypt$${COST}$${BLOCK}$${Buffer.alloc(16).toString('base64url')}$${Buffer.alloc(KEY_LENGTH).toString('base64url')}`;

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, cost, block, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !cost || !block || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await derive(password, Buffer.from(salt, 'base64url'), Number(cost), Number(block));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
