/**
 * A command's options as one typed table, each flag written once: yargs' declaration, the
 * parsed arguments' type, the help's `[default: x]` and the values a config starts from all
 * come from it. Only yargs' types are imported: `--help` loads this without yargs' code.
 */
import type { Argv, InferredOptionType, Options, PositionalOptions } from 'yargs';
import { UsageError } from './errors.ts';

/**
 * A flag: yargs' own fields, and the help group it is listed under. Its `default` is not
 * handed to yargs (the help shows it, `withDefaults` applies it): a flag whose config must
 * know whether it was given (`--utc needs --by`) has none, only a `defaultDescription`.
 */
interface TableOption extends Options {
  readonly group: string;
}

/** A positional argument: named in the command's usage (`<csv>`, `[n]`), listed apart. */
interface TablePositional extends PositionalOptions {
  readonly positional: true;
  /** What the help shows as its default (yargs reads it; its types omit it). */
  readonly defaultDescription?: string;
}

/** Every option of a command (or the common ones), by flag name, in the order help lists them. */
export type OptionTable = Readonly<Record<string, TableOption | TablePositional>>;

/** `task-timeout` -> `taskTimeout`: the key yargs gives a kebab-case flag. */
type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

type WithoutDefault<O> = Omit<O, 'default'> extends infer P extends Options ? P : never;

/**
 * What a command is handed: each flag under its camelCase key, typed from its option (a
 * `choices` list gives a union, a `coerce` its result), absent when not given.
 */
export type ArgsOf<T extends OptionTable> = {
  readonly [K in keyof T & string as CamelCase<K>]?:
    InferredOptionType<WithoutDefault<T[K]>> | undefined;
};

/** The arguments once `withDefaults` has run: a flag with a default is always there. */
export type Defaulted<T extends OptionTable> = {
  readonly [K in keyof T & string as CamelCase<K>]: InferredOptionType<T[K]>;
};

/** `task-timeout` -> `taskTimeout`, as yargs names the parsed value. */
function camelCase(name: string): string {
  return name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/**
 * `args` with every flag that was not given at its table default. A flag of one value given
 * twice is refused: yargs would hand over an array of both, which no type here admits.
 */
export function withDefaults<T extends OptionTable>(table: T, args: ArgsOf<T>): Defaulted<T> {
  const filled: Record<string, unknown> = { ...args };
  for (const [name, option] of Object.entries(table)) {
    const key = camelCase(name);
    if (Array.isArray(filled[key]) && !option.array) {
      throw new UsageError(`--${name} was given more than once`);
    }
    if (filled[key] === undefined && option.default !== undefined) filled[key] = option.default;
  }
  return filled as Defaulted<T>;
}

/** Declares a table's positionals and options on a yargs parser (a command's builder). */
export function declareOptions<A>(y: Argv<A>, table: OptionTable): Argv<A> {
  let declared = y;
  for (const [name, entry] of Object.entries(table)) {
    // The default stays out of yargs (see TableOption): only the help shows it.
    const option: Record<string, unknown> = { ...entry, defaultDescription: shownDefault(entry) };
    delete option['default'];
    declared =
      'positional' in entry
        ? declared.positional(name, option as PositionalOptions)
        : declared.option(name, option as Options);
  }
  return declared;
}

/** A default as the help shows it: as typed (yargs would quote a string), none for an off flag. */
function shownDefault(entry: TableOption | TablePositional): string | undefined {
  const value: unknown = entry.default;
  if (entry.defaultDescription !== undefined) return entry.defaultDescription;
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}
