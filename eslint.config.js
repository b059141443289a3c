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
  'packages/gateway/src/create-gateway.ts': 'createGateway',
};
const MANY_PARAMETERS = {
  'packages/gateway/src/credentials/resolve-credentials.ts': '#postToken',
  'packages/gateway/src/gateway-endpoint.ts': '#refuse, #serve',
  'packages/gateway/src/serve-tool-request.ts': 'serveToolRequest',
  'packages/gateway/src/stateless-revision.ts': 'serveStatelessRequest',
  'packages/gateway/src/targets/openapi-target.ts': 'signRequest',
  'packages/gateway/src/tool-dispatcher.ts': 'callTool, #record, #callTool',
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
