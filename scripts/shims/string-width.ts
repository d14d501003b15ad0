// Stands in for `string-width` in the bundle (see scripts/build.ts). The real module builds an
// Intl.Segmenter and Unicode-property regexes as soon as it is imported (~30 ms), and yargs
// lays out its whole help text after every command it runs, even when nothing is printed.
// Printable ASCII is one column per character, which covers crew's own help; anything else
// loads the real module on first use (esbuild turns this require() of the bundled ES module
// into a lazy initialiser).
import type realStringWidth from 'string-width';

type StringWidth = typeof realStringWidth;
let real: StringWidth | undefined;

export default function stringWidth(text: string, options?: Parameters<StringWidth>[1]): number {
  if (typeof text === 'string' && /^[\x20-\x7e]*$/.test(text)) return text.length;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose, see above
  real ??= (require('string-width') as { default: StringWidth }).default;
  return real(text, options);
}
