import { describe, expect, it } from 'vitest';
import { knownOptions, unknownOption } from '../../src/unknown-option.ts';

const known = knownOptions(['out', 'o', 'url-column', 'force', 'json', 'w', 'workers', 'q']);

describe('unknownOption', () => {
  it.each([
    ['an unknown long option that took a value', ['download-csv', '--bogus', 'x.csv'], '--bogus'],
    ['with its value after =', ['download-csv', '--bogus=1', 'x.csv'], '--bogus'],
    ['an unknown letter', ['download-csv', '-Z', 'x.csv'], '-Z'],
    ['a group judged by its first letter', ['-Zq'], '-Z'],
    ['known options only', ['download-csv', '-o', 'out', '--json', 'x.csv'], undefined],
    ['camelCase of a kebab option', ['--urlColumn', 'u', 'x.csv'], undefined],
    ['kebab-case as declared', ['--url-column=u'], undefined],
    ['a negated boolean', ['--no-force'], undefined],
    ['a negated unknown', ['--no-such'], '--no-such'],
    ['a group of known letters', ['-qw', '2'], undefined],
    ['a negative number', ['sum', '-5'], undefined],
    ['stdin as a file', ['download-csv', '-'], undefined],
    ['nothing after --', ['sum', '--', '--bogus'], undefined],
    ['an emoji letter is one letter', ['-😀'], '-😀'],
  ])('%s', (_, args, expected) => {
    expect(unknownOption(args, known)).toBe(expected);
  });
});
