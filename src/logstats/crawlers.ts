/**
 * Whether a user agent is a crawler, as the `isbot` package judges it (a list kept up to date
 * by its maintainers, of the quality GoAccess's own list is). Its list costs a process ~5 ms
 * to load and ~4 ms more to compile on first use, so it is loaded only by a run that asks
 * (the agents panel, --ignore-crawlers: see `loadCrawlerCheck`). A log repeats its agents:
 * answers are kept for the agents seen last.
 */
let check: ((agent: string) => boolean) | undefined;

/** Agents whose answer is kept; past this the memory starts again (a hostile log's agents). */
const KEPT = 10_000;

let known = new Map<string, boolean>();

/** Loads the crawler list, once per process: before the first `isCrawler`. */
export async function loadCrawlerCheck(): Promise<void> {
  check ??= (await import('isbot')).isbot;
}

/** Whether `agent` (a User-Agent as written; `-` for none) is a crawler's. */
export function isCrawler(agent: string): boolean {
  let answer = known.get(agent);
  if (answer === undefined) {
    if (check === undefined) throw new Error('the crawler list is not loaded (loadCrawlerCheck)');
    answer = check(agent);
    if (known.size >= KEPT) known = new Map();
    known.set(agent, answer);
  }
  return answer;
}
