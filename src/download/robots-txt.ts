/**
 * robots.txt as RFC 9309 reads it, for `--robots-txt`: the groups of `User-agent` lines and
 * their `Allow` / `Disallow` rules; the group for crew's names (else `*`) decides a path by
 * its longest matching rule, `Allow` winning a tie; `*` matches any characters and a final
 * `$` the end. Pure; a hostile file costs at most its capped size and a bounded number of
 * rules.
 */

/** The most of a robots.txt read (RFC 9309 asks for at least 500 KiB). */
export const MAX_ROBOTS_BYTES = 512 * 1024;

/** Rules kept from one file: far more than any real robots.txt has. */
const MAX_RULES = 10_000;

interface Rule {
  readonly allow: boolean;
  readonly pattern: string;
  readonly regex: RegExp;
}

/** The rules of a robots.txt that apply to a robot: what it may fetch. */
export interface RobotRules {
  /** Whether `path` (the URL's path and query) may be fetched. */
  allows(path: string): boolean;
}

/** No file, or one that says nothing to crew: everything may be fetched. */
export const ALLOW_ALL: RobotRules = { allows: () => true };

/** Everything is disallowed. */
export const DISALLOW_ALL: RobotRules = { allows: () => false };

/** The rules of `text` for a robot answering to `agents` (lower case product tokens). */
export function robotRules(text: string, agents: readonly string[]): RobotRules {
  const groups = parseGroups(text);
  const ours = groups.filter((group) => group.agents.some((agent) => agents.includes(agent)));
  const chosen = ours.length > 0 ? ours : groups.filter((group) => group.agents.includes('*'));
  const rules = chosen.flatMap((group) => group.rules);
  if (rules.length === 0) return ALLOW_ALL;
  return {
    allows(path) {
      let best: Rule | undefined;
      for (const rule of rules) {
        if (!rule.regex.test(path)) continue;
        if (
          best === undefined ||
          rule.pattern.length > best.pattern.length ||
          (rule.pattern.length === best.pattern.length && rule.allow && !best.allow)
        ) {
          best = rule;
        }
      }
      return best?.allow ?? true;
    },
  };
}

interface Group {
  readonly agents: string[];
  readonly rules: Rule[];
}

function parseGroups(text: string): Group[] {
  const groups: Group[] = [];
  let current: Group | undefined;
  let rules = 0;
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = raw.replace(/#.*/, '').trim();
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === 'user-agent') {
      // Agent lines in a row form one group; an agent line after rules starts the next.
      if (current === undefined || current.rules.length > 0) {
        current = { agents: [], rules: [] };
        groups.push(current);
      }
      const token = /^[A-Za-z_*-]+/.exec(value)?.[0]?.toLowerCase();
      if (token) current.agents.push(token);
    } else if ((key === 'allow' || key === 'disallow') && current && rules < MAX_RULES) {
      if (value === '') continue; // `Disallow:` with nothing: no rule
      current.rules.push({ allow: key === 'allow', pattern: value, regex: patternRegex(value) });
      rules++;
    }
  }
  return groups;
}

/** A rule's pattern as a regex anchored at the path's start: `*` any characters, `$` the end. */
function patternRegex(pattern: string): RegExp {
  const anchored = pattern.endsWith('$');
  const body = (anchored ? pattern.slice(0, -1) : pattern)
    .split('*')
    .map((part) => normalise(part).replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}${anchored ? '$' : ''}`);
}

/**
 * A path or pattern with its percent-escapes in upper case and its other non-ASCII
 * characters escaped, so `/caf%c3%a9`, `/caf%C3%A9` and `/café` compare equal.
 */
export function normalise(path: string): string {
  return path
    .replace(/%[0-9a-f]{2}/gi, (escape) => escape.toUpperCase())
    .replace(/[^\x21-\x7e]/gu, (char) => encodeURIComponent(char));
}
