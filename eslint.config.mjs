import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // infra/vendor holds third-party packages in their upstream form (see their README).
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.local/', 'infra/vendor/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      'no-console': 'error',
      // Stripping control characters from contributor text is deliberate.
      'no-control-regex': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // The design keeps bull and fluent-ffmpeg behind one module each.
      'no-restricted-imports': ['error', { paths: ['bull', 'fluent-ffmpeg', '@contentauth/c2pa-node'] }],
    },
  },
  // c2pa-node too: signing and reading live in worker/steps/provenance.step.ts.
  { files: ['shared/queue/queue.ts', 'worker/ffmpeg/ffmpeg.ts', 'worker/steps/provenance.step.ts'], rules: { 'no-restricted-imports': 'off' } },
  { files: ['jest.config.js', 'test/helpers/summary-reporter.js', 'test/helpers/esm-transformer.js', 'test/helpers/node-fetch-shim.js'], languageOptions: { globals: { module: 'writable', process: 'readonly', require: 'readonly' } }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
  { files: ['test/helpers/c2pa-ts-check.mjs'], languageOptions: { globals: { process: 'readonly', Buffer: 'readonly' } } },
);
