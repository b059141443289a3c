import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/*
 * Function budgets for src/ (issue 15): at most 4 parameters (pass an options object) and about 80 lines per
 * function, with no exceptions: every function that was over budget when the rules came in has been split.
 */
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
);
