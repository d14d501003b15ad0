/**
 * The option a user mistyped, found in the raw arguments. yargs takes the word after an
 * unknown `--flag` as its value, so `crew download-csv --bogus x.csv` left no CSV and
 * failed as "Not enough non-option arguments" before its strict check named `--bogus`. Pure.
 */

/** The options a command takes: long names, one-letter aliases, in any spelling yargs accepts. */
export type KnownOptions = ReadonlySet<string>;

const camel = (name: string): string =>
  name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Every spelling of `names` yargs parses: as declared, in camelCase and in kebab-case. */
export function knownOptions(names: Iterable<string>): KnownOptions {
  const known = new Set<string>();
  for (const name of names) known.add(name).add(camel(name)).add(kebab(name));
  return known;
}

/**
 * The first option in `args` (before a `--`) that `known` does not hold, as it was typed
 * (`--bogus`, `-Z`); undefined if every one is known. `--no-x` is known when `x` is; a
 * group of one-letter options (`-qj`) is judged by its first letter; `-5` is a number.
 */
export function unknownOption(args: readonly string[], known: KnownOptions): string | undefined {
  for (const arg of args) {
    if (arg === '--') return undefined;
    if (arg.startsWith('--')) {
      const name = arg.slice(2).split('=')[0]!;
      if (name === '' || known.has(name)) continue;
      if (name.startsWith('no-') && known.has(name.slice(3))) continue;
      return `--${name}`;
    }
    if (arg.startsWith('-') && arg.length > 1 && !/^-[\d.]/.test(arg)) {
      const letter = [...arg][1]!;
      if (!known.has(letter)) return `-${letter}`;
    }
  }
  return undefined;
}
