/**
 * GoAccess-like panels (`--panels`): status codes, paths, not-found paths, referring sites,
 * user agents and crawlers, bytes served, requests by hour of day. Each scan keeps exact
 * counts in maps; the parts of a file, the files and the --by groups are merged exactly, and
 * a list is cut to its busiest rows only when it is shown. Pure.
 */
import { isCrawler } from './crawlers.ts';
import { referrerSite, type LineRequest } from './request-fields.ts';

/** Every panel, in the order they are shown. */
export const PANEL_NAMES = [
  'status',
  'paths',
  'not-found',
  'referrers',
  'agents',
  'bytes',
  'hours',
] as const;

export type PanelName = (typeof PANEL_NAMES)[number];

/** A client as a panel keeps it: an IPv4 address as its number, IPv6 as text. */
export type ClientKey = number | string;

/** A path's numbers: requests, bytes sent, and each distinct client. */
interface PathCount {
  requests: number;
  bytes: number;
  readonly clients: Set<ClientKey>;
}

/** A path's numbers as they travel: key, requests, bytes, clients. */
export type PathData = readonly [string, number, number, readonly ClientKey[]];

/**
 * Panel counts as they travel from a worker to the parent: plain arrays (any runtime can
 * send them), exact, not cut.
 */
export interface PanelData {
  /** Code, requests. */
  readonly status: readonly (readonly [number, number])[];
  readonly paths: readonly PathData[];
  readonly notFound: readonly PathData[];
  readonly referrers: readonly (readonly [string, number])[];
  readonly agents: readonly (readonly [string, number])[];
  readonly bytes: number;
  /** Requests in each hour of day, 24 of them. */
  readonly hours: readonly number[];
}

const increment = <K>(map: Map<K, number>, key: K, by = 1): void => {
  map.set(key, (map.get(key) ?? 0) + by);
};

/** The exact counts of the panels asked for, over any number of lines and parts. */
export class PanelCounts {
  readonly #status = new Map<number, number>();
  readonly #paths = new Map<string, PathCount>();
  readonly #notFound = new Map<string, PathCount>();
  readonly #referrers = new Map<string, number>();
  readonly #agents = new Map<string, number>();
  #bytes = 0;
  readonly #hours = new Array<number>(24).fill(0);
  readonly #want: ReadonlySet<PanelName>;

  constructor(panels: readonly PanelName[]) {
    this.#want = new Set(panels);
  }

  /** One line counted (not malformed, not filtered), from `client`. */
  add(line: LineRequest, client: ClientKey): void {
    const want = this.#want;
    const status = line.status;
    if (status >= 0 && want.has('status')) increment(this.#status, status);
    const target = line.target;
    if (target !== undefined) {
      if (want.has('paths')) addPath(this.#paths, target, 1, line.sent, [client]);
      if (status >= 400 && status < 500 && want.has('not-found')) {
        addPath(this.#notFound, target, 1, line.sent, [client]);
      }
    }
    if (line.referrer !== undefined && want.has('referrers')) {
      increment(this.#referrers, referrerSite(line.referrer));
    }
    if (line.agent !== undefined && want.has('agents')) increment(this.#agents, line.agent);
    this.#bytes += line.sent;
    if (line.hour >= 0) this.#hours[line.hour]!++;
  }

  /** Adds another part's counts. */
  absorb(data: PanelData): void {
    for (const [code, requests] of data.status) increment(this.#status, code, requests);
    for (const [key, requests, bytes, clients] of data.paths) {
      addPath(this.#paths, key, requests, bytes, clients);
    }
    for (const [key, requests, bytes, clients] of data.notFound) {
      addPath(this.#notFound, key, requests, bytes, clients);
    }
    for (const [key, requests] of data.referrers) increment(this.#referrers, key, requests);
    for (const [key, requests] of data.agents) increment(this.#agents, key, requests);
    this.#bytes += data.bytes;
    data.hours.forEach((requests, hour) => (this.#hours[hour]! += requests));
  }

  /** The counts to send on, whole. */
  toData(): PanelData {
    const paths = (map: Map<string, PathCount>): PathData[] =>
      [...map].map(([key, p]) => [key, p.requests, p.bytes, [...p.clients]]);
    return {
      status: [...this.#status],
      paths: paths(this.#paths),
      notFound: paths(this.#notFound),
      referrers: [...this.#referrers],
      agents: [...this.#agents],
      bytes: this.#bytes,
      hours: [...this.#hours],
    };
  }

  /** The panels asked for as `--json` shows them, lists cut to their `rows` busiest. */
  toJson(rows: number): PanelsJson {
    const want = this.#want;
    const json: Record<string, unknown> = {};
    if (want.has('status')) json['status'] = statusJson(this.#status);
    if (want.has('paths')) {
      json['paths'] = pathsJson(this.#paths, rows);
      json['paths_distinct'] = this.#paths.size;
    }
    if (want.has('not-found')) {
      json['not_found'] = pathsJson(this.#notFound, rows);
      json['not_found_distinct'] = this.#notFound.size;
    }
    if (want.has('referrers')) {
      json['referrers'] = busiest(this.#referrers, rows).map(([key, requests]) => ({
        key,
        requests,
      }));
      json['referrers_distinct'] = this.#referrers.size;
    }
    if (want.has('agents')) Object.assign(json, this.#agentsJson(rows));
    if (want.has('bytes')) json['bytes'] = this.#bytes;
    if (want.has('hours')) {
      json['hours'] = this.#hours.map((requests, hour) => ({
        key: String(hour).padStart(2, '0'),
        requests,
      }));
    }
    return json;
  }

  #agentsJson(rows: number): Pick<PanelsJson, 'agents' | 'agents_distinct' | 'crawlers'> {
    let all = 0;
    let crawlers = 0;
    for (const [agent, requests] of this.#agents) {
      all += requests;
      if (isCrawler(agent)) crawlers += requests;
    }
    return {
      agents: busiest(this.#agents, rows).map(([key, requests]) => ({
        key,
        requests,
        crawler: isCrawler(key),
      })),
      agents_distinct: this.#agents.size,
      crawlers: { requests: crawlers, share: all === 0 ? 0 : crawlers / all },
    };
  }
}

function addPath(
  map: Map<string, PathCount>,
  key: string,
  requests: number,
  bytes: number,
  clients: Iterable<ClientKey>,
): void {
  let path = map.get(key);
  if (path === undefined) map.set(key, (path = { requests: 0, bytes: 0, clients: new Set() }));
  path.requests += requests;
  path.bytes += bytes;
  for (const client of clients) path.clients.add(client);
}

/** A row of a top-K list. */
export interface KeyedRequests {
  readonly key: string;
  readonly requests: number;
}

export interface PathRow extends KeyedRequests {
  readonly bytes: number;
  readonly clients: number;
}

/** The panels of a file, a group or all, as `--json` shows them (only those asked for). */
export interface PanelsJson {
  readonly status?: {
    readonly codes: readonly KeyedRequests[];
    readonly classes: readonly KeyedRequests[];
  };
  readonly paths?: readonly PathRow[];
  readonly paths_distinct?: number;
  readonly not_found?: readonly PathRow[];
  readonly not_found_distinct?: number;
  readonly referrers?: readonly KeyedRequests[];
  readonly referrers_distinct?: number;
  readonly agents?: readonly (KeyedRequests & { readonly crawler: boolean })[];
  readonly agents_distinct?: number;
  readonly crawlers?: { readonly requests: number; readonly share: number };
  readonly bytes?: number;
  readonly hours?: readonly KeyedRequests[];
}

function statusJson(codes: Map<number, number>): NonNullable<PanelsJson['status']> {
  const sorted = [...codes].sort(([a], [b]) => a - b);
  const classes = new Map<string, number>();
  for (const [code, requests] of sorted)
    increment(classes, `${Math.floor(code / 100)}xx`, requests);
  return {
    codes: sorted.map(([code, requests]) => ({ key: String(code).padStart(3, '0'), requests })),
    classes: [...classes].map(([key, requests]) => ({ key, requests })),
  };
}

function pathsJson(map: Map<string, PathCount>, rows: number): PathRow[] {
  const counts = new Map<string, number>();
  for (const [key, path] of map) counts.set(key, path.requests);
  return busiest(counts, rows).map(([key, requests]) => {
    const path = map.get(key)!;
    return { key, requests, bytes: path.bytes, clients: path.clients.size };
  });
}

/** The `rows` entries with the most requests; ties go to the lower key (the same every run). */
export function busiest(map: ReadonlyMap<string, number>, rows: number): [string, number][] {
  const before = (a: [string, number], b: [string, number]): boolean =>
    a[1] !== b[1] ? a[1] > b[1] : a[0] < b[0];
  const best: [string, number][] = [];
  if (rows <= 0) return best;
  for (const entry of map) {
    const last = best[best.length - 1];
    if (best.length === rows && last !== undefined && !before(entry, last)) continue;
    let at = best.length;
    while (at > 0 && before(entry, best[at - 1]!)) at--;
    best.splice(at, 0, entry);
    if (best.length > rows) best.pop();
  }
  return best;
}

/** A part's counts as `--json` shows them. */
export function panelsJsonOf(
  data: PanelData,
  panels: readonly PanelName[],
  rows: number,
): PanelsJson {
  const counts = new PanelCounts(panels);
  counts.absorb(data);
  return counts.toJson(rows);
}
