/**
 * GoAccess-like panels (`--panels`): status codes, paths, not-found paths, referring sites,
 * user agents and crawlers, bytes served, requests by hour of day. Each scan keeps exact
 * counts in maps; the parts of a file, the files and the --by groups are merged exactly, and
 * a list is cut to its busiest rows only when it is shown. Pure.
 */
import { ClientSet } from './client-set.ts';
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

/**
 * A path's numbers: requests, bytes sent, and each distinct client. Most paths of a log are
 * asked for by one client: that one is kept as it is, a ClientSet only from the second.
 */
interface PathCount {
  requests: number;
  bytes: number;
  clients: ClientKey | ClientSet;
}

/**
 * Paths' numbers as they travel, a column each (fewer objects to send and to collect than
 * a row each): path `i` has `clientCounts[i]` clients, the next ones of `clients`.
 */
export interface PathsData {
  readonly keys: readonly string[];
  readonly requests: readonly number[];
  readonly bytes: readonly number[];
  readonly clientCounts: readonly number[];
  readonly clients: readonly ClientKey[];
}

/**
 * Panel counts as they travel from a worker to the parent: plain arrays (any runtime can
 * send them), exact, not cut.
 */
export interface PanelData {
  /** Code, requests. */
  readonly status: readonly (readonly [number, number])[];
  readonly paths: PathsData;
  readonly notFound: PathsData;
  readonly referrers: readonly (readonly [string, number])[];
  readonly agents: readonly (readonly [string, number])[];
  readonly bytes: number;
  /** Requests in each hour of day, 24 of them. */
  readonly hours: readonly number[];
}

const MAX_SITES_HELD = 4096;

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

  /** What `add` counts, looked up once rather than per line. */
  readonly #adds: Readonly<
    Record<'status' | 'paths' | 'notFound' | 'referrers' | 'agents', boolean>
  >;
  /** Each referrer's site: a referrer repeats from line to line, and its pattern is not free. */
  readonly #sites = new Map<string, string>();

  constructor(panels: readonly PanelName[]) {
    this.#want = new Set(panels);
    this.#adds = {
      status: this.#want.has('status'),
      paths: this.#want.has('paths'),
      notFound: this.#want.has('not-found'),
      referrers: this.#want.has('referrers'),
      agents: this.#want.has('agents'),
    };
  }

  /** One line counted (not malformed, not filtered), from `client`. */
  add(line: LineRequest, client: ClientKey): void {
    const adds = this.#adds;
    const status = line.status;
    if (status >= 0 && adds.status) increment(this.#status, status);
    const target = line.target;
    if (target !== undefined) {
      if (adds.paths) countPath(this.#paths, target, line.sent, client);
      if (status >= 400 && status < 500 && adds.notFound) {
        countPath(this.#notFound, target, line.sent, client);
      }
    }
    if (line.referrer !== undefined && adds.referrers) {
      countKey(this.#referrers, this.#siteOf(line.referrer));
    }
    if (line.agent !== undefined && adds.agents) countKey(this.#agents, line.agent);
    this.#bytes += line.sent;
    if (line.hour >= 0) this.#hours[line.hour]!++;
  }

  #siteOf(referrer: string): string {
    let site = this.#sites.get(referrer);
    if (site === undefined) {
      // Bounded: a log of unique referrers must not keep them all twice.
      if (this.#sites.size >= MAX_SITES_HELD) this.#sites.clear();
      site = referrerSite(referrer);
      this.#sites.set(referrer, site);
    }
    return site;
  }

  /** Adds another part's counts. */
  absorb(data: PanelData): void {
    for (const [code, requests] of data.status) increment(this.#status, code, requests);
    absorbPaths(this.#paths, data.paths);
    absorbPaths(this.#notFound, data.notFound);
    for (const [key, requests] of data.referrers) increment(this.#referrers, key, requests);
    for (const [key, requests] of data.agents) increment(this.#agents, key, requests);
    this.#bytes += data.bytes;
    data.hours.forEach((requests, hour) => (this.#hours[hour]! += requests));
  }

  /**
   * Adds another's counts, taking over its sets of clients: `other` must not be used after.
   * (A merge of what is already here, without the copy into arrays `absorb` takes.)
   */
  takeOver(other: PanelCounts): void {
    for (const [code, requests] of other.#status) increment(this.#status, code, requests);
    takeOverPaths(this.#paths, other.#paths);
    takeOverPaths(this.#notFound, other.#notFound);
    for (const [key, requests] of other.#referrers) increment(this.#referrers, key, requests);
    for (const [key, requests] of other.#agents) increment(this.#agents, key, requests);
    this.#bytes += other.#bytes;
    other.#hours.forEach((requests, hour) => (this.#hours[hour]! += requests));
  }

  /** The counts to send on, whole. */
  toData(): PanelData {
    return {
      status: [...this.#status],
      paths: pathsData(this.#paths),
      notFound: pathsData(this.#notFound),
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
      json['referrers'] = busiest(this.#referrers, rows, requestsOf).map(([key, requests]) => ({
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
      agents: busiest(this.#agents, rows, requestsOf).map(([key, requests]) => ({
        key,
        requests,
        crawler: isCrawler(key),
      })),
      agents_distinct: this.#agents.size,
      crawlers: { requests: crawlers, share: all === 0 ? 0 : crawlers / all },
    };
  }
}

/**
 * A key read from a line is a slice of the line's text, and would keep all of it alive: a
 * key kept in a map is a copy of its own.
 */
const ownCopy = (key: string): string => Buffer.from(key).toString();

/** One more request for `key`. */
function countKey(map: Map<string, number>, key: string): void {
  const requests = map.get(key);
  if (requests === undefined) map.set(ownCopy(key), 1);
  else map.set(key, requests + 1);
}

/** One request for `key` from `client`. */
function countPath(
  map: Map<string, PathCount>,
  key: string,
  bytes: number,
  client: ClientKey,
): void {
  const path = map.get(key);
  if (path === undefined) {
    map.set(ownCopy(key), { requests: 1, bytes, clients: client });
    return;
  }
  path.requests++;
  path.bytes += bytes;
  addClient(path, client);
}

function addClient(path: PathCount, client: ClientKey): void {
  const clients = path.clients;
  if (typeof clients === 'object') clients.add(client);
  else if (clients !== client) {
    const set = new ClientSet();
    set.add(clients);
    set.add(client);
    path.clients = set;
  }
}

const clientCount = (path: PathCount): number =>
  typeof path.clients === 'object' ? path.clients.size : 1;

function pathsData(map: Map<string, PathCount>): PathsData {
  const data = { keys: [], requests: [], bytes: [], clientCounts: [], clients: [] } as {
    [K in keyof PathsData]: PathsData[K] extends readonly (infer T)[] ? T[] : never;
  };
  for (const [key, path] of map) {
    data.keys.push(key);
    data.requests.push(path.requests);
    data.bytes.push(path.bytes);
    data.clientCounts.push(clientCount(path));
    if (typeof path.clients === 'object') path.clients.forEach((c) => data.clients.push(c));
    else data.clients.push(path.clients);
  }
  return data;
}

function takeOverPaths(map: Map<string, PathCount>, from: Map<string, PathCount>): void {
  for (const [key, other] of from) {
    const path = map.get(key);
    if (path === undefined) {
      map.set(key, other);
      continue;
    }
    path.requests += other.requests;
    path.bytes += other.bytes;
    if (typeof other.clients !== 'object') addClient(path, other.clients);
    else other.clients.forEach((client) => addClient(path, client));
  }
}

function absorbPaths(map: Map<string, PathCount>, data: PathsData): void {
  let next = 0;
  data.keys.forEach((key, i) => {
    const count = data.clientCounts[i]!;
    let path = map.get(key);
    if (path === undefined) {
      const first = data.clients[next]!;
      map.set(key, (path = { requests: 0, bytes: 0, clients: first }));
    }
    path.requests += data.requests[i]!;
    path.bytes += data.bytes[i]!;
    for (let c = next; c < next + count; c++) addClient(path, data.clients[c]!);
    next += count;
  });
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
  return busiest(map, rows, (path) => path.requests).map(([key, path]) => ({
    key,
    requests: path.requests,
    bytes: path.bytes,
    clients: clientCount(path),
  }));
}

/**
 * The `rows` entries with the most requests (`requestsOf`), most first; ties go to the lower
 * key, so the list is the same whatever order the parts came in.
 */
export function busiest<V>(
  map: ReadonlyMap<string, V>,
  rows: number,
  requestsOf: (value: V) => number,
): [string, V][] {
  type Entry = [string, V, number];
  const before = (a: Entry, b: Entry): boolean => (a[2] !== b[2] ? a[2] > b[2] : a[0] < b[0]);
  const best: Entry[] = [];
  if (rows <= 0) return [];
  for (const [key, value] of map) {
    const requests = requestsOf(value);
    const last = best[best.length - 1];
    // Most keys fall short of the list: skip them before making an entry.
    if (best.length === rows && last !== undefined && requests < last[2]) continue;
    const entry: Entry = [key, value, requests];
    if (best.length === rows && last !== undefined && !before(entry, last)) continue;
    let at = best.length;
    while (at > 0 && before(entry, best[at - 1]!)) at--;
    best.splice(at, 0, entry);
    if (best.length > rows) best.pop();
  }
  return best.map(([key, value]) => [key, value]);
}

const requestsOf = (n: number): number => n;

/** A part's counts, to show or merge on. */
export function panelCountsOf(data: PanelData, panels: readonly PanelName[]): PanelCounts {
  const counts = new PanelCounts(panels);
  counts.absorb(data);
  return counts;
}
