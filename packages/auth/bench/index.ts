import { verify as cryptoVerify, createPublicKey } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { BenchSection } from '@gatehouse/core';
import { SignatureV4 } from '@smithy/signature-v4';
import { createJwtAuthorizer, createSigV4Verifier } from '../src/index.ts';
import { NodeSha256 } from '../src/node-sha256.ts';
import { startTestIssuer } from '@gatehouse/testing/test-issuer';

const ROUNDS = 7;
const TOKENS_PER_ROUND = 300;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

async function perSecond(count: number, run: () => Promise<void> | void): Promise<number> {
  const started = performance.now();
  await run();
  return count / ((performance.now() - started) / 1000);
}

/**
 * Authorizer throughput against raw node:crypto.verify of the very same tokens, measured in
 * alternating rounds in one process so machine load affects both sides alike; medians reported.
 */
export async function bench(): Promise<BenchSection[]> {
  const issuer = await startTestIssuer();
  try {
    const publicKey = createPublicKey({ key: issuer.keys.rsa.publicJwk as never, format: 'jwk' });
    const raw: number[] = [];
    const firstSight: number[] = [];
    const repeats: number[] = [];
    const authorizer = createJwtAuthorizer({ discoveryUrl: issuer.discoveryUrl, allowedClients: ['test-client'] });
    await authorizer.verify(issuer.sign({ sub: 'warm-up' }));
    for (let round = 0; round < ROUNDS; round++) {
      const tokens = Array.from({ length: TOKENS_PER_ROUND }, (_, index) => issuer.sign({ sub: `user-${round}-${index}` }));
      raw.push(await perSecond(tokens.length, () => {
        for (const token of tokens) {
          const dot = token.lastIndexOf('.');
          if (!cryptoVerify('sha256', Buffer.from(token.slice(0, dot)), publicKey, Buffer.from(token.slice(dot + 1), 'base64url'))) throw new Error('raw verify failed');
        }
      }));
      firstSight.push(await perSecond(tokens.length, async () => {
        for (const token of tokens) await authorizer.verify(token);
      }));
      repeats.push(await perSecond(tokens.length * 10, async () => {
        for (let repeat = 0; repeat < 10; repeat++) for (const token of tokens) await authorizer.verify(token);
      }));
    }
    authorizer.close();

    const host = 'localhost:8080';
    const credentials = { accessKeyId: 'AKIDBENCH0000001', secretAccessKey: 'bench-secret' };
    const verifier = createSigV4Verifier({ service: 'bedrock-agentcore', region: 'us-east-1', lookupKey: async () => ({ secretAccessKey: credentials.secretAccessKey, principal: { subject: 'bench', arn: 'arn:aws:iam::1:user/bench', permissions: [] } }) });
    const signer = new SignatureV4({ credentials, region: 'us-east-1', service: 'bedrock-agentcore', sha256: NodeSha256 });
    const body = new TextEncoder().encode('{"prompt":"hello"}');
    const path = '/runtimes/arn%3Aaws%3Abedrock-agentcore%3Aus-east-1%3A1%3Aruntime%2Fa/invocations';
    const signed = await signer.sign({ method: 'POST', protocol: 'https:', hostname: 'localhost', path, query: { qualifier: 'DEFAULT' }, headers: { host, 'content-type': 'application/json' }, body });
    const headers = Object.fromEntries(Object.entries(signed.headers).map(([name, value]) => [name.toLowerCase(), value]));
    const sigv4: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      sigv4.push(await perSecond(500, async () => {
        for (let index = 0; index < 500; index++) await verifier.verify({ method: 'POST', rawPath: `${path}?qualifier=DEFAULT`, headers, body });
      }));
    }

    const rawMedian = median(raw);
    const firstMedian = median(firstSight);
    const ratio = median(firstSight.map((value, index) => value / raw[index]!));
    return [{
      title: 'auth: JWT authorizer and SigV4 verifier',
      rows: [
        { name: 'raw node:crypto.verify (RS256, 2048-bit)', value: Math.round(rawMedian), unit: 'verifications/s' },
        { name: 'authorizer, first sight of each token', value: Math.round(firstMedian), unit: 'verifications/s' },
        { name: 'authorizer first sight ÷ raw verify', value: Number(ratio.toFixed(2)), unit: '×', note: `target ≥ 0.8× — ${ratio >= 0.8 ? 'met' : 'not met'}` },
        { name: 'authorizer, repeated token (cache hit)', value: Math.round(median(repeats)), unit: 'verifications/s' },
        { name: 'SigV4 header verification (InvokeAgentRuntime-shaped)', value: Math.round(median(sigv4)), unit: 'verifications/s' },
      ],
      notes: [`median of ${ROUNDS} alternating rounds of ${TOKENS_PER_ROUND} distinct tokens; the same tokens feed the raw and authorizer sides`],
    }];
  } finally {
    await issuer.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await bench(), null, 2));
}
