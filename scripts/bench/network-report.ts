/** The network section's tables: wall and CPU per condition and tool, and issue 32's targets. */
import { fixed, markdownTable } from './measure.ts';
import type { Scheme } from './network-hosts.ts';

/** One tool on one condition: medians of its rounds. */
export interface NetworkRow {
  readonly set: string;
  readonly scheme: Scheme;
  readonly rttMs: number;
  readonly tool: string;
  readonly wallMs: number;
  readonly cpuMs: number;
  /** CPU the latency proxy used during the tool's runs (the same machine's cores). */
  readonly proxyCpuMs: number;
  readonly wallRuns: readonly number[];
  readonly loads: readonly number[];
  /** Files missing or wrong in the worst round (a failed command counts one at least). */
  readonly wrong: number;
}

const SCHEME_LABEL: Record<Scheme, string> = {
  https: 'HTTPS (h2 offered)',
  http: 'HTTP',
  'https-h1': 'HTTPS (http/1.1 only)',
};

const key = (r: NetworkRow): string => `${r.set}|${r.scheme}|${r.rttMs}`;
const seconds = (ms: number): string => fixed(ms / 1000, 2);

/** Condition keys and tool names in the order they ran. */
function axes(rows: readonly NetworkRow[]): { conditions: NetworkRow[]; tools: string[] } {
  const conditions = new Map<string, NetworkRow>();
  for (const r of rows) if (!conditions.has(key(r))) conditions.set(key(r), r);
  return { conditions: [...conditions.values()], tools: [...new Set(rows.map((r) => r.tool))] };
}

function pivot(
  rows: readonly NetworkRow[],
  value: (r: NetworkRow) => string,
  extra: { header: string; cell: (of: (tool: string) => NetworkRow | undefined) => string }[],
): string {
  const { conditions, tools } = axes(rows);
  const find = (c: NetworkRow) => (tool: string) =>
    rows.find((r) => key(r) === key(c) && r.tool === tool);
  return markdownTable(
    ['set', 'scheme', 'RTT', ...tools, ...extra.map((e) => e.header)],
    conditions.map((c) => [
      c.set,
      SCHEME_LABEL[c.scheme],
      `${c.rttMs} ms`,
      ...tools.map((t) => {
        const r = find(c)(t);
        return r ? `${value(r)}${r.wrong > 0 ? ` (${r.wrong} wrong)` : ''}` : '';
      }),
      ...extra.map((e) => e.cell(find(c))),
    ]),
  );
}

const ratio = (
  a: NetworkRow | undefined,
  b: NetworkRow | undefined,
  of: (r: NetworkRow) => number,
): number => (a && b ? of(a) / of(b) : NaN);

const CURL = /^curl/;

/** The tables and targets, with `intro` above them. */
export function networkMarkdown(rows: readonly NetworkRow[], intro: string): string {
  if (rows.length === 0) return intro;
  const { tools } = axes(rows);
  const crews = tools.filter((t) => t.includes('crew'));
  const curl = tools.find((t) => CURL.test(t));
  const vsCurl = (of: (r: NetworkRow) => number) =>
    crews.map((crew) => ({
      header: `${crew} ÷ curl`,
      cell: (find: (tool: string) => NetworkRow | undefined) =>
        fixed(ratio(find(crew), curl ? find(curl) : undefined, of), 2),
    }));
  const load = {
    header: 'load',
    cell: (find: (tool: string) => NetworkRow | undefined) => {
      const loads = tools.flatMap((t) => find(t)?.loads ?? []);
      return `${fixed(Math.min(...loads), 1)}-${fixed(Math.max(...loads), 1)}`;
    },
  };
  const proxy = {
    header: 'proxy CPU s',
    cell: (find: (tool: string) => NetworkRow | undefined) =>
      seconds(Math.max(...tools.map((t) => find(t)?.proxyCpuMs ?? 0))),
  };
  return [
    intro,
    '',
    'Median wall time, s:',
    '',
    pivot(rows, (r) => seconds(r.wallMs), [...vsCurl((r) => r.wallMs), load]),
    '',
    'Median CPU time (user + system), s; "proxy CPU" is the most the latency proxy took during one tool\'s run:',
    '',
    pivot(rows, (r) => seconds(r.cpuMs), [...vsCurl((r) => r.cpuMs), proxy]),
    '',
    targets(rows, curl),
  ].join('\n');
}

/** Issue 32's goals, as far as this run measured them. */
function targets(rows: readonly NetworkRow[], curl: string | undefined): string {
  const at = (set: string, rtt: number, tool: string | undefined): NetworkRow | undefined =>
    rows.find(
      (r) => r.set.includes(set) && r.scheme === 'https' && r.rttMs === rtt && r.tool === tool,
    );
  const aria = rows.find((r) => r.tool.startsWith('aria2c'))?.tool;
  const crewN = rows.find((r) => r.tool.startsWith('crew -c'))?.tool;
  const lines: string[][] = [];
  const add = (what: string, value: number, limit: number): void => {
    if (Number.isFinite(value))
      lines.push([what, `${fixed(value, 2)}x`, `≤ ${limit}x`, value <= limit ? 'yes' : 'no']);
  };
  for (const rtt of [20, 100]) {
    add(
      `big, HTTPS ${rtt} ms: crew ÷ curl`,
      ratio(at('MiB', rtt, 'crew (defaults)'), at('MiB', rtt, curl), (r) => r.wallMs),
      1.1,
    );
    add(
      `big, HTTPS ${rtt} ms: crew ÷ aria2c`,
      ratio(at('MiB', rtt, 'crew (defaults)'), at('MiB', rtt, aria), (r) => r.wallMs),
      1.1,
    );
    add(
      `small, HTTPS ${rtt} ms: crew (defaults) ÷ curl`,
      ratio(at('KiB', rtt, 'crew (defaults)'), at('KiB', rtt, curl), (r) => r.wallMs),
      1,
    );
    add(
      `small, HTTPS ${rtt} ms: ${crewN} ÷ curl`,
      ratio(at('KiB', rtt, crewN), at('KiB', rtt, curl), (r) => r.wallMs),
      1.2,
    );
    add(
      `small, HTTPS ${rtt} ms: crew CPU ÷ curl CPU`,
      ratio(at('KiB', rtt, 'crew (defaults)'), at('KiB', rtt, curl), (r) => r.cpuMs),
      2,
    );
  }
  if (lines.length === 0) return '';
  return [
    "Issue 32's targets:",
    '',
    markdownTable(['target', 'measured', 'goal', 'met?'], lines),
  ].join('\n');
}
