import type { Caller } from '../../src/caller.ts';

/** A verified caller as the policy engine sees it: only subject, groups and client vary between the policy tests. */
export const policyCaller = (subject: string, groups: string[] = ['ops-readonly'], clientId = 'client-1'): Caller => ({
  subject,
  issuer: 'https://issuer.test',
  clientId,
  username: subject,
  scopes: ['openid'],
  groups,
  claims: {},
  token: 'unused',
  expiresAt: undefined,
});
