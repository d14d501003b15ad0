/**
 * Whether a user agent is a crawler, as the `isbot` package judges it (a list kept up to date
 * by its maintainers, of the quality GoAccess's own list is). A log repeats its agents, and
 * one check runs a big regular expression: answers are kept for the agents seen last. Pure.
 */
import { isbot } from 'isbot';

/** Agents whose answer is kept; past this the memory starts again (a hostile log's agents). */
const KEPT = 10_000;

let known = new Map<string, boolean>();

/** Whether `agent` (a User-Agent as written; `-` for none) is a crawler's. */
export function isCrawler(agent: string): boolean {
  let answer = known.get(agent);
  if (answer === undefined) {
    answer = isbot(agent);
    if (known.size >= KEPT) known = new Map();
    known.set(agent, answer);
  }
  return answer;
}
