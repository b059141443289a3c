import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hasDuplicateMembers, parseJwt } from '../src/parse-jwt.ts';

const b64 = (text: string): string => Buffer.from(text).toString('base64url');

describe('strict JWT parsing', () => {
  it('finds duplicate members, including ones spelled with escapes', () => {
    assert.equal(hasDuplicateMembers('{"sub":"a","sub":"b"}'), true);
    assert.equal(hasDuplicateMembers('{"sub":"a","\\u0073ub":"b"}'), true);
    assert.equal(hasDuplicateMembers('{"a":{"x":1,"x":2}}'), true);
    assert.equal(hasDuplicateMembers('{"a":[{"x":1},{"x":2}],"b":{"x":1}}'), false);
    assert.equal(hasDuplicateMembers('{"a":"}\\",{\\"a\\":1","b":["a","a"]}'), false);
  });

  it('parses a well-formed token and drops prototype keys at every depth', () => {
    const parsed = parseJwt(`${b64('{"alg":"RS256","kid":"k"}')}.${b64('{"sub":"u","nested":{"__proto__":{"x":1},"constructor":1,"ok":true}}')}.c2ln`);
    assert.deepEqual(parsed.header, { alg: 'RS256', kid: 'k' });
    assert.deepEqual(JSON.stringify(parsed.payload), '{"sub":"u","nested":{"ok":true}}');
    assert.equal(parsed.signature.toString(), 'sig');
  });

  it('refuses segments that are not unpadded base64url JSON objects', () => {
    const header = b64('{"alg":"RS256"}');
    for (const token of [`${header}.${b64('[1]')}.c2ln`, `${header}.${b64('null')}.c2ln`, `${header}.${b64('{"a":1')}.c2ln`, `${header}.e30=.c2ln`, `${header}.e30*.c2ln`, `.${b64('{}')}.c2ln`, `${header}.${b64('{}')}`]) {
      assert.throws(() => parseJwt(token), { code: 'malformed' }, token);
    }
    assert.throws(() => parseJwt(`${header}.${b64('{}')}.`), { code: 'bad_signature' });
    assert.throws(() => parseJwt(''), { code: 'missing' });
  });
});
