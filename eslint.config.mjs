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
      'no-restricted-imports': ['error', { paths: ['bull', 'fluent-ffmpeg'] }],
    },
  },
  { files: ['shared/queue/queue.ts', 'worker/ffmpeg/ffmpeg.ts'], rules: { 'no-restricted-imports': 'off' } },
  { files: ['jest.config.js', 'test/helpers/summary-reporter.js'], languageOptions: { globals: { module: 'writable', process: 'readonly', require: 'readonly' } }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
