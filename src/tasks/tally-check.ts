/**
 * Checks for what a logstats worker answers (a TallyResult, its groups, IP runs and panels),
 * as the coordinator takes it from the queue: a row anyone who reaches the database can
 * write. Every count is a whole number, every set has the types and sizes a scan makes and
 * is ordered as the merge expects, every key is text of bounded length, and the answer has
 * the parts that were asked for (groups with --by, request counts with --top, panels with
 * --panels) and no others. Pure.
 */
import { MAX_KEPT_LINE } from '../logstats/carried-line.ts';
import { hashIPv6 } from '../logstats/ipv6-set.ts';
import type { IPv4Run } from '../logstats/ipv4-set.ts';
import type { IPv6Run } from '../logstats/ipv6-set.ts';
import type { LineRules } from '../logstats/formats/index.ts';
import { MISREAD_EXAMPLES, type Misread } from '../logstats/formats/misread.ts';
import type { PanelData, PathsData } from '../logstats/panels.ts';
import type { GroupResult, TallyResult } from '../logstats/tally.ts';
import { compareKeys, UNKNOWN } from '../logstats/timestamp.ts';
import { printable } from '../ui/printable.ts';
import {
  all,
  count,
  countUpTo,
  exactly,
  list,
  object,
  optional,
  textUpTo,
  tuple,
  typedArray,
  wholeIn,
  type Check,
} from './check.ts';

/** What a result must hold: what the task asked for. */
export interface Asked {
  /** Request counts per client (--top). */
  readonly top: boolean;
  readonly rules?: LineRules | undefined;
}

/** Every IPv4 address, once: no set holds more. */
const MAX_IPV4 = 2 ** 32;
/** Buckets of an IP run: the top 16 bits of each hash. */
const BUCKETS = 1 << 16;
/**
 * Most items in one list of an answer. The answer's size bounds them first (wire.ts); this
 * only keeps a count a merge adds up a safe integer.
 */
const MAX_ITEMS = 2 ** 31;
/** A warning is crew's own sentence about a file. */
const MAX_WARNING = 2_000;
/** JSON logs' fields the clients were read from: a few names. */
const MAX_FIELDS = 64;

const key = textUpTo(MAX_KEPT_LINE);
const requests = count;

/** Each item's bucket (hash >>> 16) never less than the one before: the merge's order. */
function bucketOrder(length: number, bucketAt: (i: number) => number): string | undefined {
  let last = 0;
  for (let i = 0; i < length; i++) {
    const bucket = bucketAt(i);
    if (bucket < last) return 'must be in bucket order';
    last = bucket;
  }
  return undefined;
}

/** Request counts per address: with --top, one per address; else none. */
const requestCounts = (top: boolean, length: number): Check =>
  top
    ? all(typedArray(length, Uint32Array), (value) =>
        (value as Uint32Array).length === length ? undefined : `must hold ${length} items`,
      )
    : exactly(undefined, 'must be absent without --top');

/** An IPv4 run as IPv4Set.toRun makes it: small (hashes) or big (lows in bucket sizes). */
const ipv4Run =
  (top: boolean): Check =>
  (value) => {
    const shape = object<IPv4Run>({
      count: countUpTo(MAX_IPV4),
      hashes: optional(typedArray(MAX_IPV4, Uint32Array)),
      lows: optional(typedArray(MAX_IPV4, Uint16Array)),
      sizes: optional(typedArray(BUCKETS, Uint8Array, Uint16Array, Uint32Array)),
      counts: optional(typedArray(MAX_IPV4, Uint32Array)),
    })(value);
    if (shape !== undefined) return shape;
    const run = value as IPv4Run;
    const n = run.count;
    // The addresses first: the request counts are one per address.
    const addresses = run.hashes ?? run.lows;
    if (addresses !== undefined && addresses.length !== n) {
      return `"${run.hashes ? 'hashes' : 'lows'}" must hold one item per address`;
    }
    const counts = requestCounts(top, n)(run.counts);
    if (counts !== undefined) return `"counts" ${counts}`;
    if (run.hashes !== undefined) {
      if (run.lows !== undefined || run.sizes !== undefined) {
        return 'must be small or big, not both';
      }
      const hashes = run.hashes;
      return bucketOrder(n, (i) => hashes[i]! >>> 16);
    }
    if (run.lows === undefined || run.sizes === undefined) return 'must hold hashes or buckets';
    if (run.sizes.length !== BUCKETS) return `"sizes" must hold ${BUCKETS} buckets`;
    let sum = 0;
    for (const size of run.sizes) sum += size;
    return sum === n ? undefined : '"sizes" must add up to the count';
  };

/** An IPv6 run: four words an address, in bucket order. */
const ipv6Run =
  (top: boolean): Check =>
  (value) => {
    const shape = object<IPv6Run>({
      count: countUpTo(MAX_ITEMS),
      words: typedArray(MAX_ITEMS * 4, Uint32Array),
      counts: optional(typedArray(MAX_ITEMS, Uint32Array)),
    })(value);
    if (shape !== undefined) return shape;
    const { count: n, words, counts } = value as IPv6Run;
    if (words.length !== n * 4) return '"words" must hold four items per address';
    const why = requestCounts(top, n)(counts);
    if (why !== undefined) return `"counts" ${why}`;
    return bucketOrder(n, (i) => {
      const at = i * 4;
      return hashIPv6(words[at]!, words[at + 1]!, words[at + 2]!, words[at + 3]!) >>> 16;
    });
  };

/** A client as a panel keeps it: an IPv4 number, or IPv6 as four words in hex. */
const clientKey: Check = (value) =>
  typeof value === 'number'
    ? wholeIn(0, MAX_IPV4 - 1)(value)
    : typeof value === 'string' && /^[0-9a-f]{1,8}(?::[0-9a-f]{1,8}){3}$/.test(value)
      ? undefined
      : 'must be an IPv4 number or IPv6 words';

/** Paths' columns: one item per path in each, and as many clients as they add up to. */
const pathsData: Check = (value) => {
  const shape = object<PathsData>({
    keys: list(key, MAX_ITEMS),
    requests: list(requests, MAX_ITEMS),
    bytes: list(count, MAX_ITEMS),
    clientCounts: list(count, MAX_ITEMS),
    clients: list(clientKey, MAX_ITEMS),
  })(value);
  if (shape !== undefined) return shape;
  const paths = value as PathsData;
  const n = paths.keys.length;
  if ([paths.requests, paths.bytes, paths.clientCounts].some((column) => column.length !== n)) {
    return 'must hold one item per path in each column';
  }
  const clients = paths.clientCounts.reduce((sum, c) => sum + c, 0);
  return clients === paths.clients.length ? undefined : '"clients" must match "clientCounts"';
};

/** A panel's keyed counts: [key, requests] pairs. */
const keyed = (keyCheck: Check, max: number): Check => list(tuple(keyCheck, requests), max);

/** The panels' exact counts (the parent merges them into Maps: no key reaches an object). */
export const panelData: Check = object<PanelData>({
  status: keyed(wholeIn(0, 999), 1000),
  paths: pathsData,
  notFound: pathsData,
  referrers: keyed(key, MAX_ITEMS),
  agents: keyed(key, MAX_ITEMS),
  bytes: count,
  hours: list(count, 24),
});

/** Panels when asked for (a part with none adds nothing), else none. */
export const panelsFor = (asked: Asked): Check =>
  (asked.rules?.panels?.length ?? 0) > 0
    ? optional(
        all(panelData, (value) =>
          (value as PanelData).hours.length === 24 ? undefined : '"hours" must hold 24 items',
        ),
      )
    : exactly(undefined, 'must be absent without --panels');

/** A --by group's key: a day, or an hour, as groupKey writes it, or `unknown`. */
const groupKey = (by: 'day' | 'hour'): Check => {
  const pattern = by === 'day' ? /^\d{4,6}-\d\d-\d\d$/ : /^\d{4,6}-\d\d-\d\d \d\d:00$/;
  return (value) =>
    typeof value === 'string' && (value === UNKNOWN || pattern.test(value))
      ? undefined
      : `must be a ${by} or "${UNKNOWN}"`;
};

/** Lines: none counted more than once, none malformed that was not counted. */
const lineCounts = (result: { total: number; malformed: number }): string | undefined =>
  result.malformed > result.total ? 'more malformed lines than lines' : undefined;

/** The groups of --by, in key order, each key once. */
const groupsFor = (asked: Asked): Check => {
  const by = asked.rules?.by;
  if (by === undefined) return exactly(undefined, 'must be absent without --by');
  const group = object<GroupResult>(
    {
      key: groupKey(by),
      total: count,
      malformed: count,
      ipv4: ipv4Run(asked.top),
      ipv6: ipv6Run(asked.top),
      panels: panelsFor(asked),
    },
    lineCounts,
  );
  // A batch's union has none when none of its files had a line.
  return optional(
    all(list(group, MAX_ITEMS), (value) => {
      const groups = value as readonly GroupResult[];
      for (let i = 1; i < groups.length; i++) {
        if (compareKeys(groups[i - 1]!.key, groups[i]!.key) >= 0) {
          return 'must be in key order, each key once';
        }
      }
      return undefined;
    }),
  );
};

/**
 * The fields of a scan's result as `asked`. `panels`: whether the whole has them (a batch's
 * union does not: each of its files sends its own).
 */
export function tallyFields(
  asked: Asked,
  panels = true,
): { readonly [K in keyof TallyResult]-?: Check } {
  return {
    total: count,
    malformed: count,
    filtered: count,
    bytes: count,
    ipv4: ipv4Run(asked.top),
    ipv6: ipv6Run(asked.top),
    warning: optional(textUpTo(MAX_WARNING)),
    groups: groupsFor(asked),
    fields: optional(list(textUpTo(MAX_KEPT_LINE), MAX_FIELDS)),
    panels: panels ? panelsFor(asked) : exactly(undefined, 'must be absent'),
    misread: optional(misread),
  };
}

/**
 * A --log-format's misread lines: the examples are printed as they come (a worker escapes
 * them), so one that escaping would change is refused here rather than escaped twice.
 */
const misread: Check = object<Misread>({
  lines: all(count, (value) => ((value as number) > 0 ? undefined : 'must be at least 1')),
  examples: list(
    all(textUpTo(MAX_WARNING), (value) =>
      printable(value as string) === value ? undefined : 'must be printable as it is',
    ),
    MISREAD_EXAMPLES,
  ),
});

/** What relates a result's counts: lines within its bytes, malformed within its lines. */
export function tallyRule(
  result: Pick<TallyResult, 'total' | 'malformed' | 'filtered' | 'bytes'>,
): string | undefined {
  if (result.total + result.filtered > result.bytes) return 'more lines than bytes';
  return lineCounts(result);
}

/** A whole TallyResult as `asked`; `panels` as for tallyFields. */
export const tallyResult = (asked: Asked, panels = true): Check =>
  object<TallyResult>(tallyFields(asked, panels), tallyRule);

/** A client as --top lists it: an IPv4 or IPv6 address in text. */
export const clientText: Check = (value) =>
  typeof value === 'string' && value.length <= 45 && /^[0-9a-f.:]+$/i.test(value)
    ? undefined
    : 'must be an IP address';
