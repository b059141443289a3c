import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/*
 * Function budgets for src/ (issue 15): at most 4 parameters (pass an options object) and about 80 lines per
 * function. The functions below were over budget when the rules came in; each is named so that splitting it
 * (and removing it from this list) is tracked work. Several are being rewritten right now on other branches
 * (runtime buildRuntime/upgradeAsync and session-manager, the gateway's create-gateway/serve and tools/call paths),
 * so they are exceptions rather than split here. New code gets no exception.
 */
const LONG_FUNCTIONS = {
  'deploy/src/deploy-plan.ts': 'planDeployment',
  'deploy/src/synthesize-app.ts': 'synthesizeApp',
  'packages/agent/src/agent-server.ts': 'createAgentServer',
  'packages/auth/src/jwt-authorizer.ts': 'createJwtAuthorizer',
  'packages/auth/src/sigv4-verifier.ts': 'createSigV4Verifier',
  'packages/cli/src/start-gatehouse.ts': 'startGatehouse',
  'packages/control-plane/src/create-control-plane.ts': 'createControlPlane',
  'packages/identity/src/create-identity.ts': 'createIdentity',
  'packages/runtime/src/create-runtime.ts': 'buildRuntime',
  'packages/sandbox/src/create-sandbox.ts': 'createSandbox',
  'packages/sandbox/src/sandbox-s3.ts': 'createSandboxS3',
  'packages/tools/src/accounts-command.ts': 'arrow function',
  'packages/tools/src/create-ops-tools.ts': 'createOpsTools',
  'packages/web/src/ui/app.tsx': 'App',
  'packages/web/src/ui/chat-screen.tsx': 'ChatScreen',
  'packages/web/src/ui/use-chat.ts': 'useChat',
};
const MANY_PARAMETERS = {
  'packages/agent/src/providers/model-error.ts': 'translateBedrock, translateApiKeyProvider',
  'packages/cli/src/default-config.ts': 'withDefaults',
  'packages/cluster/src/metrics.ts': 'constructor',
  'packages/control-plane/src/create-control-plane.ts': 'serve',
  'packages/control-plane/src/runtime-operations.ts': 'endpointView',
  'packages/identity/src/account-operations.ts': 'send',
  'packages/identity/src/agentcore-identity-api.ts': 'handleAgentCoreIdentity',
  'packages/identity/src/auth-flows.ts': 'recordFailure, completeSignIn, srpStart, checkPassword',
  'packages/identity/src/hosted-http.ts': 'cookie',
  'packages/identity/src/hosted-pages.ts': 'show, callCognito',
  'packages/identity/src/login-csrf.ts': 'mac, checkLoginCsrf',
  'packages/identity/src/page-token.ts': 'readPage',
  'packages/identity/src/srp.ts': 'verifyPasswordClaim',
  'packages/identity/src/user-store.ts': 'setPassword',
  'packages/runtime/src/create-runtime.ts': 'upgradeAsync',
  'packages/runtime/src/forward-to-instance.ts': 'forwardToInstance',
  'packages/runtime/src/inbound-auth.ts': 'authenticate, #authenticate',
  'packages/runtime/src/runtime-registry.ts': 'createEntry',
  'packages/runtime/src/session-manager.ts': 'constructor',
  'packages/runtime/src/websocket-proxy.ts': '#pipe',
  'packages/runtime/src/workload-tokens.ts': 'constructor',
  'packages/sandbox/src/sandbox-multipart.ts': 'record',
  'packages/tools/src/create-ops-tools.ts': 'withS3',
};
// packages/testing/src is test support, not a request path: the budgets apply to the product's sources.
const SOURCE_FILES = ['packages/*/src/**/*.ts', 'packages/*/src/**/*.tsx', 'deploy/src/**/*.ts'];
const TEST_SUPPORT = ['packages/testing/src/**/*.ts'];

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.gatehouse/**', 'test-artifacts/**', 'packages/web/dist/**', '**/cdk.out/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportAllDeclaration', message: 'List exports by name (no export *).' },
        { selector: "CallExpression[callee.object.name=/^(it|test|describe)$/][callee.property.name='only']", message: 'No focused tests.' },
      ],
      // Shared test support lives in @gatehouse/testing; reaching into another package's test/ couples their suites.
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: String.raw`^(\.\./){2,}(packages/)?[\w-]+/test/`, message: "Import shared test support from '@gatehouse/testing/<module>' instead of another package's test/ folder." }] },
      ],
    },
  },
  {
    files: SOURCE_FILES,
    ignores: TEST_SUPPORT,
    rules: {
      'max-params': ['error', 4],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  { files: Object.keys(LONG_FUNCTIONS), rules: { 'max-lines-per-function': 'off' } },
  { files: Object.keys(MANY_PARAMETERS), rules: { 'max-params': 'off' } },
);
