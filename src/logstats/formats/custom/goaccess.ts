/**
 * GoAccess's log-format specifiers (`%h %^[%d:%t %^] "%r" %s %b "%R" "%u"`) as pattern
 * tokens (pattern.ts). The specifiers that say nothing crew counts (%v, %e, %T, %D ...) are
 * read past like `%^`. Pure.
 */
import type { FormatName } from '../index.ts';
import type { FieldKind, Token } from './pattern.ts';

/** GoAccess's predefined --log-format names, as crew's presets. */
export const GOACCESS_NAMES: Readonly<Record<string, Exclude<FormatName, 'auto'>>> = {
  COMBINED: 'combined',
  COMMON: 'combined',
  VCOMBINED: 'vhost_combined',
  VCOMMON: 'vhost_combined',
  W3C: 'w3c',
  CLOUDFRONT: 'cloudfront',
  AWSALB: 'alb',
  CADDY: 'json',
};

/** Each specifier crew knows, and what it is to crew. */
const SPECIFIERS: Record<string, FieldKind> = {
  h: 'client',
  d: 'date',
  t: 'time',
  x: 'datetime',
  r: 'request',
  U: 'target',
  s: 'status',
  b: 'bytes',
  R: 'referrer',
  u: 'agent',
  '^': 'skip',
  '~': 'spaces',
  // Read past: server name, user, method, query, protocol, times taken, cache status,
  // content type, TLS, remote user, port.
  v: 'skip',
  e: 'skip',
  m: 'skip',
  q: 'skip',
  H: 'skip',
  T: 'skip',
  D: 'skip',
  L: 'skip',
  n: 'skip',
  C: 'skip',
  M: 'skip',
  K: 'skip',
  k: 'skip',
};

/** What `--log-format` takes in GoAccess's notation, for the message that refuses one. */
export const GOACCESS_SYNTAX = `GoAccess's specifiers (${Object.keys(SPECIFIERS)
  .map((name) => `%${name}`)
  .join(' ')}) and literal text, %% for a %`;

/** The tokens of a GoAccess log format; a string says why it cannot be read. */
export function goaccessTokens(format: string): Token[] | string {
  const tokens: Token[] = [];
  for (let i = 0; i < format.length; i++) {
    const char = format[i]!;
    if (char !== '%') {
      tokens.push({ literal: char });
      continue;
    }
    const name = format[++i];
    if (name === undefined) return `it ends in a lone % (it takes ${GOACCESS_SYNTAX})`;
    if (name === '%') {
      tokens.push({ literal: '%' });
      continue;
    }
    const kind = SPECIFIERS[name];
    if (kind === undefined)
      return `%${name} is not a specifier crew reads (it takes ${GOACCESS_SYNTAX})`;
    tokens.push({ field: { kind, written: `%${name}` } });
  }
  return tokens;
}
