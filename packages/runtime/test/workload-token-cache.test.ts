// Workload access tokens are cached per user and audience (and the sign-in they come from), not per
// incoming token: a refreshed token reuses the cached one, another user never does, and a token is
// minted again near its expiry and after its sign-in was revoked.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startHarness, type Harness } from './support/runtime-harness.ts';

const SESSION = 'X-Amzn-Bedrock-AgentCore-Runtime-Session-Id';
let harness: Harness;
let now = Date.now();
const asked: string[] = [];
const revokedOrigins = new Set<string>();

before(async () => {
  harness = await startHarness({
    runtimes: [{ agentRuntimeName: 'minting', limits: { warmPoolSize: 0 } }],
    clock: () => now,
    deps: {
      isRevoked: async (claims) => revokedOrigins.has(claims.origin_jti as string),
      workloadIdentity: {
        async workloadTokenForJwt(_workloadName: string, userToken: string) {
          asked.push(userToken);
          return { workloadAccessToken: `wat-${asked.length}`, expiresIn: 900 };
        },
      },
    },
  });
});
after(() => harness.close());

/** A fresh access token (its own jti) of `sub`, from the sign-in `origin`. */
const token = (sub: string, origin: string): string => harness.issuer.sign({ sub, origin_jti: origin, jti: randomUUID(), iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + 3600 });

async function invoke(bearer: string): Promise<number> {
  const response = await fetch(harness.url('minting'), {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, [SESSION]: `wtc-${randomUUID()}` },
    body: '{"prompt":"hi"}',
  });
  await response.arrayBuffer();
  return response.status;
}

test('two access tokens of one user and sign-in (a refresh) share one workload token; another user gets their own', async () => {
  const start = asked.length;
  const first = token('wanda', 'sign-in-1');
  const refreshed = token('wanda', 'sign-in-1');
  assert.notEqual(first, refreshed);
  assert.equal(await invoke(first), 200);
  assert.equal(await invoke(refreshed), 200);
  assert.deepEqual(asked.slice(start), [first], 'minted once, for the first token');
  const other = token('otto', 'sign-in-1');
  assert.equal(await invoke(other), 200);
  assert.deepEqual(asked.slice(start), [first, other], 'another user (even with the same origin id) is minted for');
});

test('a cached workload token is minted again shortly before it expires', async () => {
  const bearer = token('nearly', 'sign-in-2');
  const start = asked.length;
  assert.equal(await invoke(bearer), 200);
  now += 800_000; // 900 s token, handed out until 60 s before expiry
  assert.equal(await invoke(bearer), 200);
  assert.equal(asked.length - start, 1, 'still cached at 800 s');
  now += 41_000;
  assert.equal(await invoke(bearer), 200);
  assert.equal(asked.length - start, 2, 'minted again at 841 s');
});

test('after a revocation of the sign-in its tokens are refused before any minting, and the next sign-in is minted for', async () => {
  const before = token('rhea', 'sign-in-3');
  assert.equal(await invoke(before), 200);
  const start = asked.length;
  revokedOrigins.add('sign-in-3');
  assert.notEqual(await invoke(token('rhea', 'sign-in-3')), 200, 'a token of the revoked sign-in is refused');
  assert.equal(asked.length, start, 'and nothing was minted or reused for it');
  const next = token('rhea', 'sign-in-4');
  assert.equal(await invoke(next), 200);
  assert.deepEqual(asked.slice(start), [next], 'the new sign-in gets a workload token of its own, not the revoked one’s');
});
