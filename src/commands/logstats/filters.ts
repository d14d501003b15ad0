/**
 * `--since`, `--until`, `--exclude-ip`, `--status` and `--ignore-crawlers` as typed, into the FilterRules every scan is given:
 * spans counted back from now are fixed here, once, so every worker (on any machine) uses the
 * same window; `@file` lists are read here, so a worker needs no access to them.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { reasonOf, UsageError } from '../../errors.ts';
import {
  IP_BLOCK_SYNTAX,
  parseIpBlock,
  parseStatusList,
  parseTimeBound,
  STATUS_SYNTAX,
  TIME_BOUND_SYNTAX,
  type TimeBound,
  type WindowEnd,
} from '../../logstats/filter-values.ts';
import { MAX_EXCLUDED_BLOCKS, type FilterRules } from '../../logstats/line-filter.ts';

/** The filter flags as parsed. */
export interface FilterArgs {
  readonly since: string | undefined;
  readonly until: string | undefined;
  readonly excludeIp: readonly string[] | undefined;
  readonly utc: boolean;
  readonly status?: string | undefined;
  readonly ignoreCrawlers?: boolean | undefined;
}

/** The rules for the filters given, or undefined when none was (every line counts). */
export function toFilterRules(args: FilterArgs, nowMs: number): FilterRules | undefined {
  const since = args.since === undefined ? undefined : bound('since', args.since, nowMs, args.utc);
  const until = args.until === undefined ? undefined : bound('until', args.until, nowMs, args.utc);
  if (since && until && since.instant === until.instant && since.seconds > until.seconds) {
    throw new UsageError(
      `--since "${args.since}" is after --until "${args.until}": no line is both`,
    );
  }
  const excludeIps = excludedBlocks(args.excludeIp ?? []);
  const statuses = args.status === undefined ? undefined : statusList(args.status);
  const ignoreCrawlers = args.ignoreCrawlers === true;
  if (!since && !until && excludeIps.length === 0 && !statuses && !ignoreCrawlers) {
    return undefined;
  }
  return {
    since,
    until,
    excludeIps,
    ...(statuses ? { statuses } : {}),
    ...(ignoreCrawlers ? { ignoreCrawlers } : {}),
  };
}

function statusList(text: string): string[] {
  const parsed = parseStatusList(text);
  if (typeof parsed === 'string') {
    throw new UsageError(`--status must be ${STATUS_SYNTAX}; got "${text}": ${parsed}`);
  }
  return parsed;
}

function bound(end: WindowEnd, text: string, nowMs: number, utc: boolean): TimeBound {
  const parsed = parseTimeBound(text, end, nowMs, utc);
  if (!parsed) throw new UsageError(`--${end} must be ${TIME_BOUND_SYNTAX}; got "${text}"`);
  return parsed;
}

/** Every block named, from the command line and from `@file` lists, canonical and once each. */
function excludedBlocks(values: readonly string[]): string[] {
  const blocks = new Set<string>();
  for (const value of values) {
    if (!value.startsWith('@')) {
      blocks.add(block(value, `--exclude-ip "${value}"`));
      continue;
    }
    const file = value.slice(1);
    if (file === '') throw new UsageError('--exclude-ip @ needs a file name after the @');
    const text = readList(value, file);
    text.split(/\r?\n/).forEach((line, i) => {
      // Blank lines and # comments, as block lists are often written.
      const entry = line.replace(/#.*/, '').trim();
      if (entry !== '')
        blocks.add(block(entry, `--exclude-ip ${value}, line ${i + 1}: "${entry}"`));
      if (blocks.size > MAX_EXCLUDED_BLOCKS) {
        throw new UsageError(
          `--exclude-ip takes at most ${MAX_EXCLUDED_BLOCKS} addresses and blocks`,
        );
      }
    });
  }
  if (blocks.size > MAX_EXCLUDED_BLOCKS) {
    throw new UsageError(`--exclude-ip takes at most ${MAX_EXCLUDED_BLOCKS} addresses and blocks`);
  }
  return [...blocks];
}

/** More than MAX_EXCLUDED_BLOCKS take: a bound on what a name like @/dev/zero reads. */
const MAX_LIST_BYTES = 16 * 2 ** 20;

/** The text of an `@file` list, read up to MAX_LIST_BYTES. */
function readList(value: string, file: string): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buffer = Buffer.alloc(MAX_LIST_BYTES + 1);
    let length = 0;
    for (let n = 1; n > 0 && length < buffer.length; length += n) {
      n = readSync(fd, buffer, length, buffer.length - length, null);
    }
    if (length > MAX_LIST_BYTES) {
      throw new UsageError(`--exclude-ip ${value}: more than ${MAX_LIST_BYTES / 2 ** 20} MiB`);
    }
    return buffer.toString('utf8', 0, length);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--exclude-ip ${value}: cannot read it (${reasonOf(error)})`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function block(text: string, where: string): string {
  const parsed = parseIpBlock(text);
  if (typeof parsed === 'string') {
    throw new UsageError(`${where}: ${parsed}; expected ${IP_BLOCK_SYNTAX}`);
  }
  return parsed.text;
}
