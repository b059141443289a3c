import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { CustomJwtAuthorizerConfig } from '@gatehouse/core';
import { createJwtAuthorizer, type JwtAuthorizerOptions } from '../src/index.ts';
import { startTestIssuer, type TestIssuer } from '@gatehouse/testing/test-issuer';
import { refusal } from './support/auth-refusal.ts';

let issuer: TestIssuer;
before(async () => {
  issuer = await startTestIssuer();
});
after(async () => {
  await issuer.close();
});

function authorizer(config: Partial<CustomJwtAuthorizerConfig> = {}, options: JwtAuthorizerOptions = {}) {
  return createJwtAuthorizer({ discoveryUrl: issuer.discoveryUrl, ...config }, options);
}

describe('JWT authorizer', () => {
  it('accepts a Cognito-style access token and returns the verified principal', async () => {
    const verifier = authorizer({ allowedClients: ['test-client'] });
    const token = issuer.sign({ username: 'alice', 'cognito:groups': ['admins'], scope: 'openid profile' });
    const principal = await verifier.verify(token);
    assert.equal(principal.method, 'jwt');
    assert.equal(principal.subject, 'user-1');
    assert.equal(principal.issuer, issuer.issuer);
    assert.equal(principal.clientId, 'test-client');
    assert.equal(principal.username, 'alice');
    assert.deepEqual(principal.scopes, ['openid', 'profile']);
    assert.deepEqual(principal.groups, ['admins']);
    assert.deepEqual(principal.permissions, []);
    assert.equal(principal.token, token);
    assert.equal(principal.claims.sub, 'user-1');
    assert.equal(principal.expiresAt, principal.claims.exp);
    verifier.close();
  });

  it('accepts an ES256 token signed by the issuer’s EC key', async () => {
    const verifier = authorizer();
    const principal = await verifier.verify(issuer.sign({ sub: 'ec-user' }, { key: issuer.keys.ec }));
    assert.equal(principal.subject, 'ec-user');
    verifier.close();
  });

  it('refuses a token whose client_id is not allowed with 403 naming client_id', async () => {
    const verifier = authorizer({ allowedClients: ['other-client'] });
    const error = await refusal(verifier.verify(issuer.sign()));
    assert.equal(error.code, 'wrong_client');
    assert.equal(error.status, 403);
    assert.equal(error.claim, 'client_id');
    assert.match(error.message, /Claim 'client_id' mismatch/);
    verifier.close();
  });

  it('checks aud against allowedAudience, accepting an aud array that contains an allowed value', async () => {
    const verifier = authorizer({ allowedAudience: ['api://mine'] });
    assert.equal((await verifier.verify(issuer.sign({ aud: ['api://other', 'api://mine'] }))).subject, 'user-1');
    assert.equal((await verifier.verify(issuer.sign({ aud: 'api://mine' }))).subject, 'user-1');
    const other = await refusal(verifier.verify(issuer.sign({ aud: 'api://other' })));
    assert.deepEqual([other.code, other.status, other.claim], ['wrong_audience', 403, 'aud']);
    const none = await refusal(verifier.verify(issuer.sign()));
    assert.equal(none.code, 'wrong_audience');
    verifier.close();
  });

  it('requires both client and audience when both are configured', async () => {
    const verifier = authorizer({ allowedClients: ['test-client'], allowedAudience: ['api://mine'] });
    assert.equal((await refusal(verifier.verify(issuer.sign()))).code, 'wrong_audience');
    assert.equal((await refusal(verifier.verify(issuer.sign({ client_id: 'x', aud: 'api://mine' })))).code, 'wrong_client');
    assert.equal((await verifier.verify(issuer.sign({ aud: 'api://mine' }))).clientId, 'test-client');
    verifier.close();
  });

  it('requires every allowed scope and answers 403 insufficient_scope otherwise', async () => {
    const verifier = authorizer({ allowedScopes: ['agent/invoke', 'openid'] });
    assert.deepEqual((await verifier.verify(issuer.sign({ scope: 'openid agent/invoke' }))).scopes, ['openid', 'agent/invoke']);
    const error = await refusal(verifier.verify(issuer.sign({ scope: 'aws.cognito.signin.user.admin' })));
    assert.deepEqual([error.code, error.status, error.claim], ['insufficient_scope', 403, 'scope']);
    assert.match(error.message, /agent\/invoke/);
    assert.match(error.toResponse().headers['www-authenticate'] ?? '', /error="insufficient_scope"/);
    verifier.close();
  });

  it('applies custom claims with EQUALS, CONTAINS and CONTAINS_ANY', async () => {
    const verifier = authorizer({
      customClaims: [
        { inboundTokenClaimName: 'tenant', inboundTokenClaimValueType: 'STRING', authorizingClaimMatchValue: { claimMatchOperator: 'EQUALS', claimMatchValue: { matchValueString: 'acme' } } },
        { inboundTokenClaimName: 'cognito:groups', inboundTokenClaimValueType: 'STRING_ARRAY', authorizingClaimMatchValue: { claimMatchOperator: 'CONTAINS', claimMatchValue: { matchValueString: 'agents' } } },
        { inboundTokenClaimName: 'roles', inboundTokenClaimValueType: 'STRING_ARRAY', authorizingClaimMatchValue: { claimMatchOperator: 'CONTAINS_ANY', claimMatchValue: { matchValueStringList: ['admin', 'dev'] } } },
      ],
    });
    const good = { tenant: 'acme', 'cognito:groups': ['users', 'agents'], roles: ['dev'] };
    assert.equal((await verifier.verify(issuer.sign(good))).subject, 'user-1');
    for (const [bad, claim] of [
      [{ ...good, tenant: 'acme2' }, 'tenant'],
      [{ ...good, tenant: ['acme'] }, 'tenant'],
      [{ ...good, 'cognito:groups': ['users'] }, 'cognito:groups'],
      [{ ...good, roles: ['ops'] }, 'roles'],
      [{ ...good, roles: 'dev' }, 'roles'],
    ] as const) {
      const error = await refusal(verifier.verify(issuer.sign(bad)));
      assert.deepEqual([error.code, error.status, error.claim], ['claim_mismatch', 403, claim]);
      assert.match(error.message, new RegExp(`Claim '${claim}' mismatch`));
    }
    verifier.close();
  });

  it('applies a symmetric 60 s tolerance to exp, nbf and iat', async () => {
    const now = Math.floor(Date.now() / 1000);
    const verifier = authorizer();
    assert.equal((await verifier.verify(issuer.sign({ exp: now - 30 }))).subject, 'user-1');
    assert.equal((await refusal(verifier.verify(issuer.sign({ exp: now - 61 })))).code, 'expired');
    assert.equal((await refusal(verifier.verify(issuer.sign({ nbf: now + 3600 })))).code, 'not_yet_valid');
    assert.equal((await refusal(verifier.verify(issuer.sign({ iat: now + 3600 })))).code, 'not_yet_valid');
    verifier.close();
  });

  it('uses the injected clock, so a cached token expires with it', async () => {
    let now = Date.now();
    const verifier = authorizer({}, { clock: () => now });
    const token = issuer.sign({ exp: Math.floor(now / 1000) + 120 });
    assert.equal((await verifier.verify(token)).subject, 'user-1');
    assert.equal((await verifier.verify(token)).subject, 'user-1');
    now += 181_000;
    const error = await refusal(verifier.verify(token));
    assert.deepEqual([error.code, error.status], ['expired', 401]);
    verifier.close();
  });

  it('refuses an ID token and a JWT-shaped refresh token as bearer', async () => {
    const verifier = authorizer();
    const idToken = issuer.sign({ token_use: 'id', aud: 'test-client', client_id: undefined, scope: undefined });
    const idError = await refusal(verifier.verify(idToken));
    assert.deepEqual([idError.code, idError.status, idError.claim], ['wrong_token_use', 401, 'token_use']);
    const refreshLike = issuer.sign({ token_use: undefined, client_id: undefined, scope: undefined });
    assert.equal((await refusal(verifier.verify(refreshLike))).code, 'wrong_token_use');
    const idTyp = issuer.sign({ token_use: undefined }, { header: { typ: 'id_token+jwt' } });
    assert.equal((await refusal(verifier.verify(idTyp))).code, 'wrong_token_use');
    verifier.close();
  });

  it('accepts an RFC 9068 at+jwt token without token_use', async () => {
    const verifier = authorizer();
    const token = issuer.sign({ token_use: undefined, client_id: undefined, scope: undefined }, { header: { typ: 'at+jwt' } });
    assert.equal((await verifier.verify(token)).subject, 'user-1');
    verifier.close();
  });

  it('consults isRevoked on first sight and on cache hits', async () => {
    const revoked = new Set<string>();
    let calls = 0;
    const verifier = authorizer({}, {
      isRevoked: async (claims) => {
        calls++;
        return revoked.has(String(claims.jti));
      },
    });
    const token = issuer.sign({ jti: 'j-1' });
    await verifier.verify(token);
    await verifier.verify(token);
    assert.equal(calls, 2);
    revoked.add('j-1');
    const error = await refusal(verifier.verify(token));
    assert.deepEqual([error.code, error.status], ['revoked', 401]);
    verifier.close();
  });

  it('returns a frozen principal, so a caller cannot alter what the cache hands the next caller', async () => {
    const verifier = authorizer();
    const token = issuer.sign({ 'cognito:groups': ['users'], nested: { roles: ['a'] } });
    const first = await verifier.verify(token);
    assert.throws(() => (first.groups as string[]).push('admin'));
    assert.throws(() => ((first.claims.nested as { roles: string[] }).roles).push('admin'));
    assert.throws(() => { (first as { subject: string }).subject = 'admin'; });
    const second = await verifier.verify(token);
    assert.deepEqual(second.groups, ['users']);
    assert.equal(second.subject, 'user-1');
    verifier.close();
  });

  it('never puts the token in an error message', async () => {
    const verifier = authorizer({ allowedClients: ['nobody'] });
    const token = issuer.sign();
    const error = await refusal(verifier.verify(token));
    assert.ok(!error.message.includes(token));
    assert.ok(!error.toResponse().body.includes(token.split('.')[2]!));
    verifier.close();
  });

  it('rejects options outside their bounds at creation', () => {
    assert.throws(() => authorizer({}, { clockToleranceSeconds: 301 }));
    assert.throws(() => createJwtAuthorizer({ discoveryUrl: 'http://example.com/.well-known/openid-configuration' }));
  });
});
