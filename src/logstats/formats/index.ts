/**
 * The log formats crew reads: the one list `--format`'s choices, the queue's check of a task's
 * rules, and the tally's reading of each line come from. A new format is one module in this
 * folder exporting a LogFormat (format.ts), its tests, and its entry in LOG_FORMATS.
 */
import { alb } from './alb.ts';
import { cloudfront } from './cloudfront.ts';
import { combined } from './combined.ts';
import { customFormat, type LogFormatSpec } from './custom.ts';
import type { LogFormat, ReadRules } from './format.ts';
import { json } from './json.ts';
import { vhostCombined } from './vhost-combined.ts';
import { w3c } from './w3c.ts';

/**
 * The formats `--format auto` reads, in the order it asks whether a line is theirs. The last
 * takes any line (and only it may have a fast path: see LogFormat).
 */
export const AUTO_FORMATS = [json, alb, vhostCombined, combined] as const;

/** Every format: auto's, and those only read when named. */
export const LOG_FORMATS = [...AUTO_FORMATS, w3c, cloudfront] as const;

/** A `--format` value: `auto` (each line read as the first format that recognises it), or a format. */
export type FormatName = 'auto' | (typeof LOG_FORMATS)[number]['name'];

/** The formats by name, as --help lists them. */
export const FORMATS_BY_NAME: readonly LogFormat[] = [...LOG_FORMATS].sort((a, b) =>
  a.name < b.name ? -1 : 1,
);

/** `--format`'s choices, and what the queue accepts. */
export const FORMAT_NAMES: readonly FormatName[] = [
  'auto',
  ...FORMATS_BY_NAME.map((format) => format.name as FormatName),
];

/** How lines are read: the CLI's --format, --by, --utc, --ip-field and --time-field. */
export interface LineRules extends ReadRules {
  readonly format: FormatName;
  /** --log-format (and its time formats): read every line by it, whatever `format` says. */
  readonly logFormat?: LogFormatSpec | undefined;
}

/** The formats a scan with `rules` reads lines as: --log-format's, or formatsFor's. */
export function formatsOf(rules: LineRules): readonly LogFormat[] {
  return rules.logFormat ? [customFormat(rules.logFormat)] : formatsFor(rules.format);
}

/** The formats a scan reads lines as: the one named, or for auto all, in the order auto asks. */
export function formatsFor(name: FormatName): readonly LogFormat[] {
  if (name === 'auto') return AUTO_FORMATS;
  return LOG_FORMATS.filter((format) => format.name === name);
}

/**
 * The header lines a scan of `name` must be shown first when it starts past a file's start
 * (see LogFormat.directive): the directives of its formats.
 */
export function directivesOf(name: FormatName): readonly string[] {
  return formatsFor(name).flatMap((format) => (format.directive ? [format.directive] : []));
}
