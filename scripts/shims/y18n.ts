// Stands in for `y18n` in the bundle (see scripts/build.ts). yargs asks y18n for every message
// it prints, and y18n reads `<locales>/<LANG>.json` from a directory relative to the bundle:
// inside the single binary that is a directory beside the cache, where anyone could plant a
// file that rewrites crew's messages (or breaks every command with invalid JSON). crew speaks
// English only, and yargs' English strings are their own keys: this y18n reads no file.
import { format } from 'node:util';

type Entry = string | { readonly one: string; readonly other: string };

export interface Y18N {
  __(text: string, ...args: unknown[]): string;
  __n(singular: string, plural: string, quantity: number, ...args: unknown[]): string;
  setLocale(locale: string): void;
  getLocale(): string;
  updateLocale(strings: Record<string, Entry>): void;
}

export default function y18n(options: { locale?: string } = {}): Y18N {
  let locale = options.locale ?? 'en';
  // Strings a program supplied through yargs' updateStrings(), per locale.
  const supplied = new Map<string, Map<string, Entry>>();
  const lookup = (key: string): Entry | undefined => supplied.get(locale)?.get(key);
  return {
    __(text, ...args) {
      const entry = lookup(text);
      return format(typeof entry === 'string' ? entry : text, ...args);
    },
    __n(singular, plural, quantity, ...args) {
      const entry = lookup(singular);
      const one = quantity === 1;
      const text =
        typeof entry === 'object' ? entry[one ? 'one' : 'other'] : one ? singular : plural;
      return format(text, ...(text.includes('%d') ? [quantity] : []), ...args);
    },
    setLocale(next) {
      locale = next;
    },
    getLocale: () => locale,
    updateLocale(strings) {
      const table = supplied.get(locale) ?? new Map<string, Entry>();
      for (const [key, value] of Object.entries(strings)) table.set(key, value);
      supplied.set(locale, table);
    },
  };
}
