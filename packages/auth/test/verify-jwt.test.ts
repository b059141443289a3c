import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AuthError, importVerificationKey, verifyJwt, type JwtRules, type VerificationKey } from '../src/index.ts';
import { startTestIssuer, type TestIssuer } from '@gatehouse/testing/test-issuer';

/** The one JWT check, as identity uses it: its own keys in hand, an algorithm allow-list, no leeway. */
describe('verifyJwt with keys in hand', () => {
  let issuer: TestIssuer;
  let keys: VerificationKey[];
  const now = (): number => Math.floor(Date.now() / 1000);
  const rules = (extra: Partial<JwtRules> = {}): JwtRules => ({
    issuer: issuer.issuer, nowSeconds: now(), toleranceSeconds: 0, requireTokenUse: 'access', algorithms: new Set(['RS256']), ...extra,
  });
  const refusal = (token: string, extra: Partial<JwtRules> = {}): AuthError => {
    try {
      verifyJwt(token, keys, rules(extra));
    } catch (error) {
      assert.ok(error instanceof AuthError);
      return error;
    }
    return assert.fail('the token must be refused');
  };

  before(async () => {
    issuer = await startTestIssuer();
    keys = [issuer.keys.rsa, issuer.keys.ec].map((key) => importVerificationKey(key.publicJwk)!);
  });
  after(() => issuer.close());

  it('accepts a genuine access token and returns its claims and exp', () => {
    const exp = now() + 600;
    const verified = verifyJwt(issuer.sign({ exp }), keys, rules());
    assert.equal(verified.claims.sub, 'user-1');
    assert.equal(verified.exp, exp);
  });

  it('refuses an algorithm outside the allow-list even when a published key verifies it', () => {
    const es256 = issuer.sign({}, { key: issuer.keys.ec });
    assert.equal(verifyJwt(es256, keys, rules({ algorithms: undefined })).claims.sub, 'user-1', 'the EC signature itself is valid');
    assert.equal(refusal(es256).code, 'bad_signature');
    // A header naming RS256 over the EC key is refused by the key's own algorithm.
    assert.equal(refusal(issuer.signWith(issuer.keys.ec, { alg: 'RS256', kid: issuer.keys.ec.kid }, { iss: issuer.issuer, sub: 'u', token_use: 'access', exp: now() + 60 })).code, 'bad_signature');
  });

  it('applies the leeway it is given: none refuses a token one second past exp, 60 s accepts it', () => {
    const late = issuer.sign({ exp: now() - 1 });
    assert.equal(refusal(late).code, 'expired');
    assert.equal(verifyJwt(late, keys, rules({ toleranceSeconds: 60 })).claims.sub, 'user-1');
  });

  it('accepts an expired token only when told to (a logout hint), and still checks its signature and issuer', () => {
    const expired = issuer.sign({ exp: now() - 3600 });
    assert.equal(refusal(expired).code, 'expired');
    assert.equal(verifyJwt(expired, keys, rules({ acceptExpired: true })).claims.sub, 'user-1');
    const [header, payload] = expired.split('.');
    const [, , otherSignature] = issuer.sign({ exp: now() - 3600, sub: 'user-2' }).split('.');
    assert.equal(refusal(`${header}.${payload}.${otherSignature}`, { acceptExpired: true }).code, 'bad_signature');
    assert.equal(refusal(expired, { acceptExpired: true, issuer: 'https://other.example' }).code, 'wrong_issuer');
  });

  it('refuses a foreign issuer, an ID token, an unknown kid, a key named in the header and a forged signature', () => {
    assert.equal(refusal(issuer.sign({ iss: 'https://elsewhere.example' })).code, 'wrong_issuer');
    assert.equal(refusal(issuer.sign({ token_use: 'id' })).code, 'wrong_token_use');
    assert.equal(refusal(issuer.sign({}, { header: { kid: 'not-published' } })).code, 'unknown_key');
    assert.equal(refusal(issuer.sign({}, { header: { jku: 'https://attacker.example/jwks' } })).code, 'malformed');
    // A genuine token's header and signature over a payload that claims someone else.
    const [header, , signature] = issuer.sign().split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ iss: issuer.issuer, sub: 'admin', token_use: 'access', exp: now() + 60 })).toString('base64url')}.${signature}`;
    assert.equal(refusal(forged).code, 'bad_signature');
  });

  it('checks the rights it is given (403) and names who was refused, never the token', () => {
    const error = refusal(issuer.sign(), { config: { allowedAudience: ['gateway'] } });
    assert.deepEqual([error.code, error.status], ['wrong_audience', 403]);
    assert.deepEqual(error.verified, { subject: 'user-1', issuer: issuer.issuer, clientId: 'test-client' });
    assert.equal(refusal(issuer.sign(), { allowedClients: new Set(['other-client']) }).code, 'wrong_client');
  });
});
