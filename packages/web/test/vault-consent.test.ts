import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consentOf } from '../src/vault-consent.ts';

test('a "Connect" link is shown only for a well-formed consent result with an http(s) URL', () => {
  const elicitation = { mode: 'url', elicitationId: 'urn:ietf:params:oauth:request_uri:1', url: 'https://github.com/login/oauth/authorize?state=s', message: 'Connect github' };
  assert.deepEqual(consentOf({ error: 'ConsentRequired', provider: 'github', elicitation }), { provider: 'github', url: elicitation.url, elicitationId: elicitation.elicitationId });
  assert.equal(consentOf({ error: 'ConsentRequired', provider: 'x', elicitation: { ...elicitation, url: 'javascript:alert(1)' } }), undefined, 'no script URL becomes a link');
  assert.equal(consentOf({ error: 'CredentialsUnavailable', elicitation }), undefined);
  assert.equal(consentOf('ConsentRequired'), undefined);
  assert.equal(consentOf({ error: 'ConsentRequired', elicitation: { url: elicitation.url } }), undefined, 'an elicitation id is required');
  assert.equal(consentOf({ error: 'ConsentRequired', elicitation })?.provider, 'github.com', 'the host names an unnamed provider');
});
