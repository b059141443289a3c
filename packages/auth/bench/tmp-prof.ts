import { createJwtAuthorizer } from '../src/index.ts';
import { startTestIssuer } from '../test/support/test-issuer.ts';
import { Session } from 'node:inspector/promises';
const issuer = await startTestIssuer();
const authorizer = createJwtAuthorizer({ discoveryUrl: issuer.discoveryUrl, allowedClients: ['test-client'] });
await authorizer.verify(issuer.sign({ sub: 'warm-up' }));
const all = Array.from({ length: 8 }, (_, round) => Array.from({ length: 2000 }, (_, index) => issuer.sign({ sub: `user-${round}-${index}` })));
const session = new Session(); session.connect(); await session.post('Profiler.enable'); await session.post('Profiler.setSamplingInterval', { interval: 50 }); await session.post('Profiler.start');
for (const tokens of all) { for (const token of tokens) await authorizer.verify(token); }
const { profile } = await session.post('Profiler.stop');
(await import('node:fs')).writeFileSync('/tmp/rt2/verify.cpuprofile', JSON.stringify(profile));
authorizer.close(); await issuer.close();
