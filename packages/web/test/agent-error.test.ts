import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ask, createUser, screenshot, signIn, startWebApp, type TestUser, type WebApp } from '@gatehouse/testing/browser-harness';

// A model whose API key variable is unset: the agent answers every turn with an `error` event.
const MISSING_KEY_VARIABLE = 'GATEHOUSE_WEB_TEST_UNSET_MODEL_KEY';

let app: WebApp;
let user: TestUser;

before(async () => {
  delete process.env[MISSING_KEY_VARIABLE];
  app = await startWebApp(() => ({ model: { provider: 'anthropic', apiKeyEnv: MISSING_KEY_VARIABLE } }));
  user = await createUser(app.stack);
});

after(() => app?.close());

test("an agent error shows the agent's explanation and fix, with a retry", async () => {
  const page = await app.browser.context.newPage();
  await signIn(page, `${app.stack.url}/`, user);
  await ask(page, 'List S3 buckets in the Production account');
  const error = page.locator('article.entry-assistant').last().locator('[data-error]');
  assert.equal(await error.getAttribute('data-error'), 'ModelNoCredentials');
  const text = await error.innerText();
  assert.match(text, /The agent reported a problem/);
  assert.match(text, new RegExp(MISSING_KEY_VARIABLE), 'the agent’s message and fix name the missing variable');
  assert.match(text, /Export/);
  await error.getByRole('button', { name: 'Retry' }).waitFor();
  await screenshot(page, 'web-error-agent');
  await page.close();
});
