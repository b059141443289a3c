import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Server side of Cognito's SRP-6a variant (RFC 5054 3072-bit group, SHA-256, HKDF-derived key),
 * the arithmetic amazon-cognito-identity-js and Amplify perform on the client.
 */
const N_HEX =
  'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD' +
  'EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED' +
  'EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F' +
  '83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B' +
  'E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510' +
  '15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7' +
  'ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C' +
  'BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF';
const N = BigInt(`0x${N_HEX}`);
const g = 2n;

/** Hex of n, even length, with a leading 00 when the top bit is set (Cognito's padHex). */
export function padHex(value: bigint | string): string {
  let hex = typeof value === 'string' ? value : value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  else if ('89abcdefABCDEF'.includes(hex[0]!)) hex = `00${hex}`;
  return hex;
}

function hashHex(hex: string): string {
  return createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    e >>= 1n;
    b = (b * b) % modulus;
  }
  return result;
}

const k = BigInt(`0x${hashHex(`${padHex(N)}${padHex(g)}`)}`);

function privateKeyX(poolSuffix: string, userIdForSrp: string, password: string, saltHex: string): bigint {
  const inner = createHash('sha256').update(`${poolSuffix}${userIdForSrp}:${password}`, 'utf8').digest('hex');
  // The salt as a number, as SRP clients (amazon-cognito-identity-js, Amplify) read it: a salt whose first byte is
  // 00 and second < 0x80 used to be hashed with its leading zeros here and without them by the client (1 in 512 users).
  return BigInt(`0x${hashHex(padHex(BigInt(`0x${saltHex}`)) + inner)}`);
}

/** Salt and verifier kept with the user, so the password itself is never needed for SRP. */
export function createVerifier(poolSuffix: string, userIdForSrp: string, password: string, salt: string = randomBytes(16).toString('hex')): { salt: string; verifier: string } {
  const x = privateKeyX(poolSuffix, userIdForSrp, password, salt);
  return { salt, verifier: modPow(g, x, N).toString(16) };
}

export interface SrpServerStep {
  /** hex of B, for the client */
  readonly serverPublic: string;
  /** hex of b, kept with the challenge session */
  readonly serverSecret: string;
}

/** Step 2: B = k·v + g^b mod N. */
export function startServer(verifierHex: string): SrpServerStep {
  const v = BigInt(`0x${verifierHex}`);
  for (;;) {
    const b = BigInt(`0x${randomBytes(128).toString('hex')}`) % N;
    const B = (k * v + modPow(g, b, N)) % N;
    if (B !== 0n) return { serverPublic: B.toString(16), serverSecret: b.toString(16) };
  }
}

/** Refuses A ≡ 0 (mod N), which would let a client force S = 0 without knowing the password. */
export function isValidClientPublic(clientPublicHex: string): boolean {
  if (!/^[0-9a-fA-F]{1,1024}$/.test(clientPublicHex)) return false;
  return BigInt(`0x${clientPublicHex}`) % N !== 0n;
}

function derivedKey(clientPublicHex: string, step: SrpServerStep, verifierHex: string): Buffer | undefined {
  const A = BigInt(`0x${clientPublicHex}`);
  const B = BigInt(`0x${step.serverPublic}`);
  const u = BigInt(`0x${hashHex(padHex(A) + padHex(B))}`);
  if (u === 0n) return undefined;
  const v = BigInt(`0x${verifierHex}`);
  const S = modPow((A * modPow(v, u, N)) % N, BigInt(`0x${step.serverSecret}`), N);
  const prk = createHmac('sha256', Buffer.from(padHex(u), 'hex')).update(Buffer.from(padHex(S), 'hex')).digest();
  return createHmac('sha256', prk).update(Buffer.concat([Buffer.from('Caldera Derived Key', 'utf8'), Buffer.from([1])])).digest().subarray(0, 16);
}

export interface PasswordClaim {
  readonly clientPublic: string;
  readonly secretBlock: string;
  readonly timestamp: string;
  readonly signature: string;
}

/** Step 5: recomputes PASSWORD_CLAIM_SIGNATURE and compares in constant time. */
/** Whose claim it is: the pool's id suffix, the USER_ID_FOR_SRP, and the stored verifier. */
export interface SrpAccount {
  readonly poolSuffix: string;
  readonly userIdForSrp: string;
  readonly verifierHex: string;
}

export function verifyPasswordClaim({ poolSuffix, userIdForSrp, verifierHex }: SrpAccount, step: SrpServerStep, claim: PasswordClaim): boolean {
  const key = derivedKey(claim.clientPublic, step, verifierHex);
  if (!key) return false;
  const expected = createHmac('sha256', key)
    .update(Buffer.concat([Buffer.from(poolSuffix, 'utf8'), Buffer.from(userIdForSrp, 'utf8'), Buffer.from(claim.secretBlock, 'base64'), Buffer.from(claim.timestamp, 'utf8')]))
    .digest();
  const given = Buffer.from(claim.signature, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Parses Cognito's `EEE MMM d HH:mm:ss UTC yyyy`; undefined when malformed. */
export function parseSrpTimestamp(text: string): number | undefined {
  const match = /^(\w{3}) (\w{3}) (\d{1,2}) (\d{2}):(\d{2}):(\d{2}) UTC (\d{4})$/.exec(text);
  if (!match || !DAYS.includes(match[1]!)) return undefined;
  const month = MONTHS.indexOf(match[2]!);
  if (month < 0) return undefined;
  const time = Date.UTC(Number(match[7]), month, Number(match[3]), Number(match[4]), Number(match[5]), Number(match[6]));
  return Number.isFinite(time) ? time : undefined;
}
