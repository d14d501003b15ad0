/**
 * W3C extended logs as IIS writes them: space-separated columns named by the last
 * `#Fields:` directive (w3c-fields.ts), times in UTC, `-` for an empty value, and a `+` for
 * each space of the user agent. Lines before any `#Fields:` are malformed (IIS's columns are
 * configurable: there is no default to trust). Only read when named (`--format w3c`). Pure.
 */
import { isSpaceOrTab } from './fields.ts';
import type { LogFormat } from './format.ts';
import { FIELDS_DIRECTIVE, W3cReader, type Dialect } from './w3c-fields.ts';

const IIS: Dialect = {
  // IIS separates with spaces; other W3C writers with tabs.
  separator: isSpaceOrTab,
  decode: (text, column) => (column === 'agent' ? text.replaceAll('+', ' ') : text),
  defaults: undefined,
};

export const w3c: LogFormat<'w3c'> = {
  name: 'w3c',
  help: 'W3C extended (IIS)',
  // Never asked: auto does not read W3C (its lines mean nothing without their header).
  recognises: () => false,
  wholeLine: true,
  directive: FIELDS_DIRECTIVE,
  reader: (rules) => new W3cReader(rules, IIS),
};
