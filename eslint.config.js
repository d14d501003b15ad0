// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Node's own modules by their node: names. */
const nodePrefix = {
  regex:
    '^(fs|path|os|child_process|worker_threads|url|util|events|crypto|stream|http|net|zlib|readline|timers|perf_hooks|module)(/|$)',
  message: 'Use the node: prefix.',
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'bench-results/', 'samples/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      // `const { kind, ...rest } = value` is how a field is left out.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      '@typescript-eslint/no-floating-promises': 'error',
      // Abort reasons and task errors arrive as `unknown` and are passed on unchanged.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      'no-restricted-imports': ['error', { patterns: [nodePrefix] }],
    },
  },
  {
    // The house's arrows point one way: commands -> tasks -> domains -> pool.
    files: ['src/download/**', 'src/logstats/**', 'src/sum/**', 'src/ui/**', 'src/wasm/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            nodePrefix,
            {
              regex: '^(\\.\\./)+(tasks|commands)/',
              message: 'A domain never imports tasks/ or commands/: they import it.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/pool/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            nodePrefix,
            {
              regex: '^(\\.\\./)+(tasks|commands|download|logstats|sum)/',
              message: 'The pool knows no task, command or domain: it runs a module it is given.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['bin/**/*.js', 'eslint.config.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      parserOptions: { projectService: false },
      globals: { process: 'readonly' },
    },
  },
);
