// ESLint: typescript-eslint's recommended rules, plus the type-aware rules
// that catch what a server in every pod's creation path cannot afford: a
// promise nobody awaits (a lost error, an unfinished write) or one passed
// where a plain callback is expected.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'bench/results/', '**/*.js', '**/*.d.ts'] },
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { project: ['./tsconfig.test.json'], tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/await-thenable': 'error',
      // A `let` assigned once after closures that read it were made (start-up wiring) is fine.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // `_` marks what a destructuring or a callback leaves out on purpose.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // tap tracks the promises of t.test itself, and fixtures are untyped YAML.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
