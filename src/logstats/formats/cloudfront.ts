/**
 * Amazon CloudFront's standard access logs: W3C extended (w3c-fields.ts), tab-separated,
 * text values URL-encoded (a space is `%20`; the user agent may be encoded twice, and is
 * decoded once, as CloudFront documents). Without a `#Fields:` line the columns are
 * CloudFront's documented ones. Only read when named (`--format cloudfront`). Pure.
 */
import { isTab } from './fields.ts';
import type { LogFormat } from './format.ts';
import { FIELDS_DIRECTIVE, fieldMap, W3cReader, type Dialect } from './w3c-fields.ts';

/** The columns of CloudFront's standard logs (version 1.0), as its `#Fields:` names them. */
export const CLOUDFRONT_FIELDS = [
  'date',
  'time',
  'x-edge-location',
  'sc-bytes',
  'c-ip',
  'cs-method',
  'cs(Host)',
  'cs-uri-stem',
  'sc-status',
  'cs(Referer)',
  'cs(User-Agent)',
  'cs-uri-query',
  'cs(Cookie)',
  'x-edge-result-type',
  'x-edge-request-id',
  'x-host-header',
  'cs-protocol',
  'cs-bytes',
  'time-taken',
  'x-forwarded-for',
  'ssl-protocol',
  'ssl-cipher',
  'x-edge-response-result-type',
  'cs-protocol-version',
  'fle-status',
  'fle-encrypted-fields',
  'c-port',
  'time-to-first-byte',
  'x-edge-detailed-result-type',
  'sc-content-type',
  'sc-content-len',
  'sc-range-start',
  'sc-range-end',
] as const;

/** URL-decoded once; as written when it is not valid percent-encoding. */
export function urlDecoded(text: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

const CLOUDFRONT: Dialect = {
  separator: isTab,
  decode: urlDecoded,
  defaults: fieldMap(CLOUDFRONT_FIELDS),
};

export const cloudfront: LogFormat<'cloudfront'> = {
  name: 'cloudfront',
  help: 'Amazon CloudFront',
  // Never asked: auto does not read CloudFront (tab-separated columns named by a header).
  recognises: () => false,
  wholeLine: true,
  directive: FIELDS_DIRECTIVE,
  reader: (rules) => new W3cReader(rules, CLOUDFRONT),
};
