// @ts-check
// Lint of the whole repository (`npm run lint`, with `prettier --check .`): issue #16.
// Type-aware rules (typescript-eslint's strict-type-checked, less the rules below) run on the
// library (src/, machines/); tests, benchmarks and examples get the rules that need no type
// information: a second type-aware pass over them doubled the lint time for findings that
// are mostly tests poking at untyped JSON on purpose.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const LIBRARY = ['src/**/*.ts', 'machines/**/*.ts'];

/** Rules of today's code style, on everywhere. */
const styleRules = {
  // `_` and `_params` are setup() placeholders whose implementations src/ provides.
  '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
  // `!` after a lookup the line before guarantees; `delete record[key]` on plain records.
  '@typescript-eslint/no-non-null-assertion': 'off',
  '@typescript-eslint/no-dynamic-delete': 'off',
  // The sanitisers of terminal output and workflow files match control characters on purpose.
  'no-control-regex': 'off',
};

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'docs/', 'node_modules/', '.bench-out/'] },
  js.configs.recommended,
  // Everything: the rules that need no type information.
  ...tseslint.configs.strict,
  { rules: styleRules },
  {
    files: LIBRARY,
    extends: [tseslint.configs.strictTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      ...styleRules,
      // Numbers and booleans read fine in messages; undefined and objects do not.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // Idioms of this code base: `() => void list.push(x)`, arrow bodies that return void calls.
      '@typescript-eslint/no-confusing-void-expression': 'off',
      '@typescript-eslint/no-meaningless-void-operator': 'off',
      // Checks of values that the types say cannot be missing are how hostile input is survived
      // (frames, stored state and user callbacks are not what their types claim).
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // Async methods that implement an async interface without awaiting.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-invalid-void-type': 'off',
      '@typescript-eslint/no-unnecessary-type-parameters': 'off',
      // zod 4 deprecates `.finite()` (numbers are finite by default): 39 of its 55 findings; to
      // be removed in one pass, then this rule turned on.
      '@typescript-eslint/no-deprecated': 'off',
    },
  },
  {
    // Browser code over dagre's untyped graph records.
    files: ['src/observability/inspector/page/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', exports: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { sourceType: 'module' },
  },
);
