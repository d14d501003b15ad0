/**
 * The `network` section (issue 32; `download` runs it too): image sets served by nginx from
 * 32 loopback hosts over HTTP and HTTPS (h2 offered, or http/1.1 only), at 0 ms and behind
 * a latency proxy at 20 and 100 ms round trips, downloaded by crew and by curl --parallel,
 * aria2c and wget2 with the same number of requests in flight. Every file is checked by
 * size and SHA-256; wall and CPU time (user + system, GNU time) are medians of the rounds,
 * the tools taken in a rotated order each round, the load average noted with every run.
 *
 * Options (`npm run bench -- network --rtt=100 --sets=big`): --rtt=0,20,100 --sets=small,big
 * --schemes=https,http,https-h1 (with --rtt or --schemes: every combination; else HTTPS at
 * every RTT, HTTP and HTTPS http/1.1-only at the largest) --rounds=3 --in-flight=50
 * --tools=crew,curl,aria2c,wget2 --crew="-c 64;--http1.1 -c {n}" (more crew variants, ';'
 * between, {n} the in-flight count) --baseline=OTHER/bin/crew.js (another build of crew run
 * beside this one, the same variants: before and after a change, in one run).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchContext, BenchSection } from './section.ts';
import { fixed, measure, median } from './measure.ts';
import { address, startHosts, type NetworkHosts, type Scheme } from './network-hosts.ts';
import { networkMarkdown, type NetworkRow } from './network-report.ts';
import {
  available,
  crewTool,
  ensureCommands,
  otherTools,
  type NetworkTool,
} from './network-tools.ts';

interface NetworkSet {
  readonly name: string;
  readonly count: number;
  readonly hosts: number;
  /** Bytes of file `i`. */
  readonly size: (i: number) => number;
}

interface Condition {
  readonly set: NetworkSet;
  readonly scheme: Scheme;
  readonly rttMs: number;
}

/** What the set's files hold: each one's size and SHA-256. */
type Expected = readonly { readonly size: number; readonly sha256: string }[];

/** 20-60 KiB, spread evenly and the same every run (a multiplicative hash of `i`). */
const smallSize = (i: number): number =>
  20 * 1024 + ((Math.imul(i + 1, 2654435761) >>> 0) % (40 * 1024));

function sets(quick: boolean): NetworkSet[] {
  return quick
    ? [
        { name: 'small', count: 200, hosts: 32, size: smallSize },
        { name: 'big', count: 8, hosts: 4, size: () => 2 * 1024 * 1024 },
      ]
    : [
        { name: 'small', count: 2000, hosts: 32, size: smallSize },
        { name: 'big', count: 100, hosts: 4, size: () => 2 * 1024 * 1024 },
      ];
}

const setLabel = (set: NetworkSet): string =>
  set.name === 'small'
    ? `${set.count} x 20-60 KiB, ${set.hosts} hosts`
    : `${set.count} x ${set.size(0) / 2 ** 20} MiB, ${set.hosts} hosts`;

const list = (options: ReadonlyMap<string, string>, key: string): string[] | undefined =>
  options
    .get(key)
    ?.split(key === 'crew' ? ';' : ',')
    .map((s) => s.trim())
    .filter(Boolean);

/** The conditions to run: the options', or HTTPS at every RTT and the rest at the largest. */
function conditions(context: BenchContext, chosen: readonly NetworkSet[]): Condition[] {
  const rtts =
    list(context.options, 'rtt')?.map(Number) ?? (context.quick ? [0, 20] : [0, 20, 100]);
  const schemes = list(context.options, 'schemes') as Scheme[] | undefined;
  const pairs: [Scheme, number][] =
    schemes !== undefined || context.options.has('rtt') || context.quick
      ? (schemes ?? ['https']).flatMap((s) => rtts.map((r): [Scheme, number] => [s, r]))
      : [
          ...rtts.map((r): [Scheme, number] => ['https', r]),
          ['http', Math.max(...rtts)],
          ['https-h1', Math.max(...rtts)],
        ];
  return pairs.flatMap(([scheme, rttMs]) => chosen.map((set) => ({ set, scheme, rttMs })));
}

/** Writes the set's files under `www` (a PNG signature, then random bytes). */
async function writeSet(www: string, set: NetworkSet): Promise<Expected> {
  const dir = join(www, `net-${set.name}`);
  await mkdir(dir, { recursive: true });
  const expected: { size: number; sha256: string }[] = [];
  for (let i = 0; i < set.count; i++) {
    const body = randomBytes(set.size(i));
    Buffer.from('89504e470d0a1a0a', 'hex').copy(body);
    expected.push({ size: body.length, sha256: createHash('sha256').update(body).digest('hex') });
    await writeFile(join(dir, `${i}.png`), body);
  }
  return expected;
}

/** Every tool's list of the condition's URLs, in `dir`. */
async function writeLists(dir: string, hosts: NetworkHosts, c: Condition): Promise<void> {
  await mkdir(dir, { recursive: true });
  const urls = Array.from(
    { length: c.set.count },
    (_, i) => `${hosts.origin(i % c.set.hosts, c.scheme, c.rttMs)}/net-${c.set.name}/${i}.png`,
  );
  const lines = (line: (url: string, i: number) => string): string => urls.map(line).join('');
  await writeFile(
    join(dir, 'list.csv'),
    lines((u, i) => `${i},img${i},${u}\n`),
  );
  await writeFile(
    join(dir, 'curl.cfg'),
    lines((u, i) => `url = "${u}"\noutput = "curl-out/img${i}.png"\n`),
  );
  await writeFile(
    join(dir, 'aria2.txt'),
    lines((u, i) => `${u}\n  out=img${i}.png\n`),
  );
  await writeFile(
    join(dir, 'wget2.txt'),
    lines((u) => `${u}\n`),
  );
}

/** How many of the tool's files are missing or wrong (size, then SHA-256). */
async function wrongFiles(dir: string, tool: NetworkTool, expected: Expected): Promise<number> {
  let wrong = 0;
  for (let i = 0; i < expected.length; i++) {
    const path = join(dir, tool.out, tool.file(i));
    try {
      if ((await stat(path)).size !== expected[i]!.size) wrong++;
      else if (
        createHash('sha256')
          .update(await readFile(path))
          .digest('hex') !== expected[i]!.sha256
      )
        wrong++;
    } catch {
      wrong++;
    }
  }
  return wrong;
}

/** The 1-minute load average now. */
const loadAverage = (): number => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

/** Whether this kernel could delay packets itself (sch_netem), which the proxy stands in for. */
function netemNote(): string {
  const release = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  const netem =
    existsSync('/sys/module/sch_netem') ||
    existsSync(`/lib/modules/${release}/kernel/net/sched/sch_netem.ko`) ||
    existsSync(`/lib/modules/${release}/kernel/net/sched/sch_netem.ko.xz`);
  return netem
    ? `This kernel (${release}) has netem, but the bench uses its proxy all the same, so that runs compare across machines.`
    : `This kernel (${release}) has no netem (no sch_netem module), so a round trip comes from the bench's TCP proxy (scripts/bench/latency-proxy.ts): each direction delayed by RTT/2, a handshake's round trip, and a congestion window that starts at 10 segments, grows like TCP slow start and stops at 4 MiB; no loss, and no bandwidth cap between connections.`;
}

/** The tools of this run: crew's variants, then the others (the options can narrow them). */
function toolsFor(context: BenchContext): NetworkTool[] {
  const variants = list(context.options, 'crew') ?? [];
  const baseline = context.options.get('baseline');
  const builds: [readonly string[], string][] = [
    [context.crew, ''],
    ...(baseline ? [[[process.execPath, baseline], 'baseline '] as [string[], string]] : []),
  ];
  const crew = builds.flatMap(([command, build]) => [
    crewTool(command, () => [], build),
    crewTool(command, (n) => ['-c', String(n)], build),
    ...variants.map((v) =>
      crewTool(command, (n) => v.replaceAll('{n}', String(n)).split(/\s+/), build),
    ),
  ]);
  const names = list(context.options, 'tools');
  const all = [...crew, ...otherTools()];
  return names ? all.filter((t) => names.includes(t.name)) : all;
}

export async function benchNetwork(context: BenchContext): Promise<BenchSection> {
  const title = 'crew download-csv over a network (latency proxy)';
  const notes = ensureCommands(context.log);
  if (!available('nginx') || !available('openssl')) {
    return { title, markdown: notes.join('\n'), data: { notes } };
  }
  const inFlight = Number(context.options.get('in-flight') ?? 50);
  const rounds = Number(context.options.get('rounds') ?? (context.quick ? 1 : 3));
  const chosenSets = sets(context.quick).filter(
    (s) => list(context.options, 'sets')?.includes(s.name) ?? true,
  );
  // On a tmpfs when there is one: aria2c fsyncs ~3 times a file, and on a disk shared with
  // builds that alone took it from 0.3 to 2.3 s for 100 files.
  const root = existsSync('/dev/shm')
    ? await mkdtemp('/dev/shm/crew-bench-network-')
    : join(context.scratch, 'network');
  // nginx's workers run as nobody: mkdtemp's 0700 would answer every request with 403.
  await chmod(root, 0o755);
  const www = join(root, 'www');
  await rm(www, { recursive: true, force: true });
  const expected = new Map<string, Expected>();
  for (const set of chosenSets) expected.set(set.name, await writeSet(www, set));
  const hosts = await startHosts(www, context.scratch);
  const rows: NetworkRow[] = [];
  const all = conditions(context, chosenSets);
  try {
    for (const rttMs of [...new Set(all.map((c) => c.rttMs))]) {
      const latency = await hosts.latency(rttMs);
      const run: Run = {
        context,
        hosts,
        tools: toolsFor(context),
        expected,
        rounds,
        inFlight,
        proxyCpuMs: latency.cpuMs,
        root,
      };
      try {
        for (const c of all.filter((x) => x.rttMs === rttMs))
          rows.push(...(await runCondition(run, c)));
      } finally {
        await latency.stop();
      }
    }
  } finally {
    await hosts.stop();
    await rm(root, { recursive: true, force: true });
  }
  const intro = [
    `nginx (worker_processes 2, sendfile) serving ${address(0)}-${address(31)}, one origin each: HTTP, HTTPS offering h2 and http/1.1 (ALPN), and HTTPS offering http/1.1 only; an ECDSA certificate from a CA the bench makes, which every tool trusts through its CA option (crew's and curl's --cacert). ${netemNote()}`,
    `Every tool has ${inFlight} requests in flight (curl's default --parallel-max); crew also runs with its defaults. The files are served from and written to ${root.startsWith('/dev/shm') ? 'a tmpfs' : "the bench's scratch directory"}. Wall and CPU (user + system of the whole command, GNU time) are medians of ${rounds} round${rounds === 1 ? '' : 's'}, the tools in a rotated order each round; every file is checked by size and SHA-256. "load" is the 1-minute load average over the condition's runs.`,
  ];
  return {
    title,
    markdown: networkMarkdown(rows, [...intro, ...notes].join('\n\n')),
    data: { inFlight, rounds, rows },
  };
}

/** What every condition of one round trip shares. */
interface Run {
  readonly context: BenchContext;
  readonly hosts: NetworkHosts;
  readonly tools: readonly NetworkTool[];
  readonly expected: ReadonlyMap<string, Expected>;
  readonly rounds: number;
  readonly inFlight: number;
  /** The latency proxy's CPU so far. */
  readonly proxyCpuMs: () => number;
  /** Where the files are served from and the tools write. */
  readonly root: string;
}

/** Runs every tool `rounds` times on one condition; one row per tool. */
async function runCondition(run: Run, c: Condition): Promise<NetworkRow[]> {
  const { context, hosts, tools, expected, rounds, inFlight, proxyCpuMs } = run;
  const dir = join(run.root, `${c.set.name}-${c.scheme}-${c.rttMs}`);
  await writeLists(dir, hosts, c);
  const runs = new Map(
    tools.map((t) => [
      t,
      [] as { wallMs: number; cpuMs: number; load: number; proxyMs: number; wrong: number }[],
    ]),
  );
  for (let round = 0; round < rounds; round++) {
    const order = tools.map((_, i) => tools[(i + round) % tools.length]!);
    for (const tool of order) {
      await rm(join(dir, tool.out), { recursive: true, force: true });
      const load = loadAverage();
      const proxyBefore = proxyCpuMs();
      const argv = tool.argv(inFlight, hosts.ca);
      const r = await measure(argv[0]!, argv.slice(1), {
        cwd: dir,
        env: tool.env?.(hosts.ca) ?? {},
        rss: true,
        timeoutMs: context.quick ? 60_000 : 300_000,
      });
      const proxyMs = proxyCpuMs() - proxyBefore;
      const wrong = await wrongFiles(dir, tool, expected.get(c.set.name)!);
      const failed = r.code === 0 ? 0 : Math.max(1, wrong);
      runs
        .get(tool)!
        .push({ wallMs: r.wallMs, cpuMs: r.cpuMs ?? NaN, load, proxyMs, wrong: failed || wrong });
      context.log(
        `network: ${c.set.name} ${c.scheme} ${c.rttMs} ms, ${tool.label(inFlight)}: ${fixed(r.wallMs / 1000, 2)} s wall, ${fixed((r.cpuMs ?? NaN) / 1000, 2)} s CPU, load ${fixed(load, 2)}${failed || wrong ? `, ${wrong} files wrong, exit ${r.code}: ${r.stderr.slice(0, 300)}` : ''}`,
      );
      await rm(join(dir, tool.out), { recursive: true, force: true });
    }
  }
  await rm(dir, { recursive: true, force: true });
  return tools.map((tool) => {
    const mine = runs.get(tool)!;
    return {
      set: setLabel(c.set),
      scheme: c.scheme,
      rttMs: c.rttMs,
      tool: tool.label(inFlight),
      wallMs: median(mine.map((m) => m.wallMs)),
      cpuMs: median(mine.map((m) => m.cpuMs)),
      proxyCpuMs: median(mine.map((m) => m.proxyMs)),
      wallRuns: mine.map((m) => m.wallMs),
      loads: mine.map((m) => m.load),
      wrong: Math.max(...mine.map((m) => m.wrong)),
    };
  });
}
