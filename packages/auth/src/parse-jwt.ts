import { isUtf8 } from 'node:buffer';
import { AuthError } from './auth-error.ts';

/** Larger than any real access token (Cognito's are ~1 KiB with many groups) and small enough to refuse floods cheaply. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

export interface ParsedJwt {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
  /** `header.payload` as ASCII bytes: what the signature covers. */
  readonly signingInput: Buffer;
  readonly signature: Buffer;
}

const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const droppedKeys = new Set(['__proto__', 'constructor', 'prototype']);
/** Only consulted on text equal to its own JSON.stringify form, which never escapes these letters. */
const prototypeName = /"(?:__proto__|constructor|prototype)"/;

/**
 * Strict compact-JWS parse, done before any crypto so malformed input costs little and never
 * reaches a key: size cap, exactly three unpadded base64url segments, UTF-8 JSON objects without
 * duplicate members (`{"sub":"u1","sub":"admin"}` is ambiguous across parsers), prototype keys dropped.
 */
export function parseJwt(token: string): ParsedJwt {
  if (token.length === 0) throw new AuthError('missing', 'A bearer token is required.');
  if (token.length > MAX_TOKEN_LENGTH) throw new AuthError('malformed', `The token is longer than ${MAX_TOKEN_LENGTH} characters; send a compact access token.`);
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (first < 0 || second < 0 || token.indexOf('.', second + 1) >= 0) {
    throw new AuthError('malformed', 'The token must be a JWS in compact form: three base64url segments separated by dots.');
  }
  const headerPart = token.slice(0, first);
  const payloadPart = token.slice(first + 1, second);
  const signaturePart = token.slice(second + 1);
  // One pass over the whole token (the dots are already known to be exactly two) instead of one per segment.
  if (!compactJws.test(token)) {
    throw new AuthError('malformed', 'The token segments must be unpadded base64url.');
  }
  if (signaturePart.length === 0) throw new AuthError('bad_signature', 'The token is unsigned; a signed access token is required.');
  const header = decodeHeader(headerPart);
  const payload = decodeJsonObject(payloadPart, 'payload');
  return {
    header,
    payload,
    signingInput: Buffer.from(token.slice(0, second), 'latin1'),
    signature: Buffer.from(signaturePart, 'base64url'),
  };
}

/**
 * An issuer signs every token with the same few headers, so parsed headers are kept (bounded, frozen):
 * this saves a decode and parse per token on the hot path. Errors are never cached.
 */
const headerCache = new Map<string, Readonly<Record<string, unknown>>>();
const HEADER_CACHE_LIMIT = 256;

function decodeHeader(segment: string): Readonly<Record<string, unknown>> {
  const cached = headerCache.get(segment);
  if (cached !== undefined) return cached;
  const header = Object.freeze(decodeJsonObject(segment, 'header'));
  if (segment.length <= 1024) {
    if (headerCache.size >= HEADER_CACHE_LIMIT) headerCache.delete(headerCache.keys().next().value!);
    headerCache.set(segment, header);
  }
  return header;
}

function decodeJsonObject(segment: string, part: 'header' | 'payload'): Record<string, unknown> {
  if (segment.length % 4 === 1) throw new AuthError('malformed', `The token ${part} is not valid base64url.`);
  const bytes = Buffer.from(segment, 'base64url');
  const text = bytes.toString('utf8');
  // Invalid UTF-8 always decodes to U+FFFD, so the byte-level check runs only when one appears.
  if (text.includes('\uFFFD') && !isUtf8(bytes)) throw new AuthError('malformed', `The token ${part} is not valid UTF-8.`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AuthError('malformed', `The token ${part} is not valid JSON.`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AuthError('malformed', `The token ${part} must be a JSON object.`);
  }
  // Fast path for what issuers emit (compact JSON as JSON.stringify writes it): when re-serializing
  // gives back the very same text, every object has as many members as names written, so none repeats.
  if (JSON.stringify(value) === text && !prototypeName.test(text)) return value as Record<string, unknown>;
  const members = scanMembers(text);
  if (members.duplicate) throw new AuthError('malformed', `The token ${part} repeats a member name; each claim may appear once.`);
  // A reviver costs more than the signature check, so it runs only when a prototype key is present.
  if (members.prototypeKey) value = JSON.parse(text, (key, inner: unknown) => (droppedKeys.has(key) ? undefined : inner));
  return value as Record<string, unknown>;
}

/** True when already-valid JSON text repeats a member name in any object. */
export function hasDuplicateMembers(text: string): boolean {
  return scanMembers(text).duplicate;
}

/**
 * Walks already-valid JSON text once, reporting whether any object repeats a member name
 * (JSON.parse keeps the last duplicate silently, other parsers the first: refusing is the only safe answer)
 * and whether a prototype-related key occurs anywhere.
 */
function scanMembers(text: string): { duplicate: boolean; prototypeKey: boolean } {
  const stack: Array<Set<string> | undefined> = [];
  let expectingKey = false;
  let prototypeKey = false;
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index);
    if (char === 0x22 /* " */) {
      let end = index + 1;
      let escaped = false;
      while (end < text.length && text.charCodeAt(end) !== 0x22) {
        if (text.charCodeAt(end) === 0x5c) {
          escaped = true;
          end += 2;
        } else {
          end += 1;
        }
      }
      if (expectingKey) {
        const names = stack[stack.length - 1];
        // Unescaped names compare as written; escaped ones ("\u0073ub") are decoded first.
        const name = escaped ? (JSON.parse(text.slice(index, end + 1)) as string) : text.slice(index + 1, end);
        if (names?.has(name)) return { duplicate: true, prototypeKey };
        names?.add(name);
        if (droppedKeys.has(name)) prototypeKey = true;
        expectingKey = false;
      }
      index = end;
    } else if (char === 0x7b /* { */) {
      stack.push(new Set());
      expectingKey = true;
    } else if (char === 0x5b /* [ */) {
      stack.push(undefined);
      expectingKey = false;
    } else if (char === 0x7d /* } */ || char === 0x5d /* ] */) {
      stack.pop();
      expectingKey = false;
    } else if (char === 0x2c /* , */) {
      expectingKey = stack[stack.length - 1] !== undefined;
    }
  }
  return { duplicate: false, prototypeKey };
}
