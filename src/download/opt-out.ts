/**
 * Opt-outs a server sends with an image: `X-Robots-Tag` directives such as `noai` (the
 * one artists and sites use to keep their images out of training sets). Pure.
 *
 * A header holds comma-separated directives, for every robot, or for one robot when they
 * follow its name and a colon (`X-Robots-Tag: otherbot: noindex, nofollow`); a response may
 * send several such headers. Directives that take a value (`max-image-preview: large`,
 * `unavailable_after: <date>`) are not robot names.
 */

/** What crew refuses to keep by default (img2dataset's list, and `noml`). */
export const DEFAULT_OPT_OUT_DIRECTIVES: readonly string[] = [
  'noai',
  'noimageai',
  'noindex',
  'noimageindex',
  'noml',
];

/** The name crew answers to as a robot (in X-Robots-Tag, and robots.txt's User-agent). */
export const CREW_ROBOT = 'crew';

/** Directives written `name: value`: the name before their colon is not a robot's. */
const VALUED = new Set([
  'max-snippet',
  'max-image-preview',
  'max-video-preview',
  'unavailable_after',
  'indexifembedded',
]);

/** What a run refuses, and the robot names it answers to (lower case). */
export interface OptOutRule {
  readonly directives: readonly string[];
  readonly agents: readonly string[];
}

/**
 * The first directive in `values` (every X-Robots-Tag header of a response) that `rule`
 * refuses, for all robots or for one of `rule.agents`; undefined when none applies.
 */
export function optOutDirective(values: readonly string[], rule: OptOutRule): string | undefined {
  for (const value of values) {
    let agent: string | undefined; // undefined: every robot
    for (const part of value.split(',')) {
      let directive = part.trim().toLowerCase();
      const colon = directive.indexOf(':');
      if (colon > 0) {
        const before = directive.slice(0, colon).trim();
        if (!VALUED.has(before)) {
          agent = before;
          directive = directive.slice(colon + 1).trim();
        }
      }
      if (directive === '') continue;
      const forUs = agent === undefined || agent === '*' || rule.agents.includes(agent);
      if (forUs && rule.directives.includes(directive)) return directive;
    }
  }
  return undefined;
}

/**
 * The robot names a run answers to: crew's own, and the product of a User-Agent it was told
 * to send (`mybot/1.0 (+https://...)` -> `mybot`), unless that is a browser's `Mozilla`.
 */
export function robotNames(userAgent: string | undefined): string[] {
  const product = /^\s*([A-Za-z0-9._-]+)/.exec(userAgent ?? '')?.[1]?.toLowerCase();
  return product && product !== 'mozilla' && product !== CREW_ROBOT
    ? [CREW_ROBOT, product]
    : [CREW_ROBOT];
}

/** `--opt-out-directives` as a list: comma-separated names, lower case; undefined if malformed. */
export function parseDirectives(text: string): string[] | undefined {
  const names = text
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  return names.length > 0 && names.every((name) => /^[a-z0-9_-]{1,40}$/.test(name))
    ? names
    : undefined;
}
