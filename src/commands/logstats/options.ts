import { UsageError } from '../../errors.ts';
import { parseSize, toCommonConfig, wholeNumber, type CommonArgs } from '../../config.ts';
import {
  declareOptions,
  withDefaults,
  type ArgsOf,
  type Defaulted,
  type OptionTable,
} from '../../option-table.ts';
import { argsAsTyped } from '../../raw-args.ts';
import {
  AUTO_FORMATS,
  FORMAT_NAMES,
  FORMATS_BY_NAME,
  type LineRules,
} from '../../logstats/formats/index.ts';
import { IP_FIELDS, TIME_FIELDS } from '../../logstats/formats/json.ts';
import {
  compileLogFormat,
  DEFAULT_DATE_FORMAT,
  DEFAULT_DATETIME_FORMAT,
  DEFAULT_TIME_FORMAT,
  type LogFormatSpec,
} from '../../logstats/formats/custom.ts';
import { GOACCESS_NAMES } from '../../logstats/formats/custom/goaccess.ts';
import { printable } from '../../ui/printable.ts';
import { PANEL_NAMES, type PanelName } from '../../logstats/panels.ts';
import { defineCommand } from '../command.ts';
import { toFilterRules } from './filters.ts';
import type { LogstatsConfig } from '../../logstats/config.ts';
import type { LogstatsResult } from '../../logstats/summary.ts';

/**
 * The smallest --split-size a user may ask for: below it, ranges cost more to plan and merge
 * than they save. (Without --split-size, files are cut no finer than MIN_AUTO_RANGE_BYTES.)
 */
const MIN_SPLIT_SIZE_OPTION = 64 * 2 ** 10;

const INPUT = 'Input:';
const LINES = 'Lines:';
const FILTERS = 'Filters:';
const OUTPUT = 'Output:';

/**
 * Every option of `crew logstats`, its default and help written once. --by and --time-field
 * have none: the config must see whether they were given.
 */
const logstatsOptions = {
  paths: {
    positional: true,
    type: 'string',
    array: true,
    describe: 'Log directories, log files (.gz too), or - for stdin',
  },
  recursive: {
    group: INPUT,
    alias: 'r',
    type: 'boolean',
    default: false,
    describe: 'Descend into subdirectories of a directory',
  },
  'split-size': {
    group: INPUT,
    type: 'string',
    describe: 'Cut files bigger than this into byte ranges (e.g. 64M)',
    defaultDescription: 'auto',
    requiresArg: true,
  },
  format: {
    group: LINES,
    type: 'string',
    choices: FORMAT_NAMES,
    default: 'auto',
    describe: `Line format: ${FORMATS_BY_NAME.map((f) => f.help).join(', ')}, or auto (each line as the first of ${AUTO_FORMATS.map((f) => f.name).join(', ')} it looks like)`,
    requiresArg: true,
  },
  'log-format': {
    group: LINES,
    type: 'string',
    describe: `Read every line by this format: GoAccess's specifiers ('%h %^[%d:%t %^] "%r" %s %b "%R" "%u"'), nginx's log_format ('$remote_addr - $remote_user [$time_local] "$request" ...'), or a GoAccess name (${Object.keys(GOACCESS_NAMES).join(', ')})`,
    requiresArg: true,
  },
  'date-format': {
    group: LINES,
    type: 'string',
    describe: "--log-format's %d, in strptime's notation",
    defaultDescription: DEFAULT_DATE_FORMAT,
    requiresArg: true,
  },
  'time-format': {
    group: LINES,
    type: 'string',
    describe: "--log-format's %t",
    defaultDescription: DEFAULT_TIME_FORMAT,
    requiresArg: true,
  },
  'datetime-format': {
    group: LINES,
    type: 'string',
    describe: "--log-format's %x",
    defaultDescription: DEFAULT_DATETIME_FORMAT,
    requiresArg: true,
  },
  'ip-field': {
    group: LINES,
    type: 'string',
    describe: 'JSON logs: the client field, a dotted path',
    defaultDescription: IP_FIELDS.join(', '),
    requiresArg: true,
  },
  'time-field': {
    group: LINES,
    type: 'string',
    describe: 'JSON logs with --by: the time field',
    defaultDescription: TIME_FIELDS.join(', '),
    requiresArg: true,
  },
  since: {
    group: FILTERS,
    type: 'string',
    describe:
      "Count only lines at or after this time: 2026-12-01, 2026-12-01T08:30[+02:00], or 7d, 12h back (in each timestamp's own offset, as --by)",
    requiresArg: true,
  },
  until: {
    group: FILTERS,
    type: 'string',
    describe: 'Count only lines at or before this time (a date: to its end), as --since',
    requiresArg: true,
  },
  'exclude-ip': {
    group: FILTERS,
    type: 'string',
    array: true,
    // One value each time: a greedy list would take the log paths after it too.
    nargs: 1,
    describe:
      'Leave out these clients: an address or CIDR block (IPv4, IPv6), or @file with one a line (repeatable)',
    requiresArg: true,
  },
  status: {
    group: FILTERS,
    type: 'string',
    describe: 'Count only lines with these status codes or classes (e.g. 4xx,500)',
    requiresArg: true,
  },
  'ignore-crawlers': {
    group: FILTERS,
    type: 'boolean',
    default: false,
    describe: "Leave out requests whose user agent is a crawler's (isbot)",
  },
  panels: {
    group: OUTPUT,
    type: 'string',
    describe: `Also count these panels per file, group and overall: ${PANEL_NAMES.join(', ')}, or all (comma-separated)`,
    requiresArg: true,
  },
  'panel-rows': {
    group: OUTPUT,
    type: 'number',
    default: 10,
    describe: 'How many rows a panel list shows (paths, not-found, referrers, agents)',
    requiresArg: true,
  },
  top: {
    group: OUTPUT,
    type: 'number',
    default: 0,
    describe: 'Also list the K busiest client IPs per file and overall',
    requiresArg: true,
  },
  by: {
    group: OUTPUT,
    type: 'string',
    choices: ['day', 'hour'],
    describe: "Group by each request's own day or hour, across all files",
    requiresArg: true,
  },
  utc: {
    group: OUTPUT,
    type: 'boolean',
    default: false,
    describe:
      "With --by, --since, --until, --panels hours: days, hours and times in UTC, not in each timestamp's own offset",
  },
  html: {
    group: OUTPUT,
    type: 'string',
    describe:
      'Also write a report to this file: one self-contained HTML page, a chart per --by group, sortable tables (replaces the file)',
    requiresArg: true,
  },
} as const satisfies OptionTable;

export type LogstatsArgs = ArgsOf<typeof logstatsOptions> & CommonArgs;

/** Validates the command line; child processes by default, one file per process. */
export function toLogstatsConfig(
  given: LogstatsArgs,
  argv: readonly string[] = [],
): LogstatsConfig {
  const common = toCommonConfig(given, { runtime: 'process' });
  const args = withDefaults(logstatsOptions, given);
  // yargs drops a bare "-" from variadic positionals: put stdin back from the raw argv.
  const stdin = argv.includes('-') && !args.paths?.includes('-') ? ['-'] : [];
  const paths = [...(args.paths ?? []), ...stdin];
  if (paths.length === 0) {
    throw new UsageError('name a log directory, log files, or - for stdin');
  }
  if (paths.filter((p) => p === '-').length > 1) throw new UsageError('stdin (-) can be read once');
  const top = wholeNumber('--top', args.top, 0, 10_000);
  const panelRows = wholeNumber('--panel-rows', args.panelRows, 1, MAX_PANEL_ROWS);
  const splitBytes =
    args.splitSize === undefined
      ? undefined
      : parseSize('--split-size', args.splitSize, '512K or 64M');
  if (splitBytes !== undefined && splitBytes < MIN_SPLIT_SIZE_OPTION) {
    // Each range costs a task, a line search and a set merge: tiny ones only add those.
    throw new UsageError(`--split-size must be at least 64K; got "${args.splitSize}"`);
  }
  if (args.html !== undefined && args.html.trim() === '') {
    throw new UsageError('--html needs a file name for the report');
  }
  return {
    ...common,
    paths: argsAsTyped(paths),
    ...(args.html !== undefined ? { html: args.html } : {}),
    recursive: args.recursive,
    top,
    splitBytes,
    panelRows,
    rules: toRules(args),
  };
}

/** The most rows --panel-rows shows in a list. */
const MAX_PANEL_ROWS = 10_000;

/** `--panels` as typed: names, comma-separated, or `all`; each once, in the order shown. */
export function parsePanels(text: string): PanelName[] {
  const asked = new Set<string>();
  for (const raw of text.split(',')) {
    const name = raw.trim().toLowerCase();
    if (name === 'all') PANEL_NAMES.forEach((panel) => asked.add(panel));
    else if ((PANEL_NAMES as readonly string[]).includes(name)) asked.add(name);
    else {
      throw new UsageError(
        `--panels takes ${PANEL_NAMES.join(', ')} or all, comma-separated; got "${raw.trim()}"`,
      );
    }
  }
  return PANEL_NAMES.filter((panel) => asked.has(panel));
}

function toRules(args: Defaulted<typeof logstatsOptions>): LineRules {
  const filter = toFilterRules(args, Date.now());
  const panels = args.panels === undefined ? undefined : parsePanels(args.panels);
  const timed = args.by !== undefined || args.since !== undefined || args.until !== undefined;
  if (args.utc && !timed && !panels?.includes('hours')) {
    throw new UsageError('--utc needs --by day or --by hour, --since, --until or --panels hours');
  }
  if (args.timeField !== undefined && args.by === undefined) {
    throw new UsageError('--time-field needs --by day or --by hour');
  }
  for (const [flag, value] of [
    ['--ip-field', args.ipField],
    ['--time-field', args.timeField],
  ] as const) {
    if (value !== undefined && !/^[^.\s]+(\.[^.\s]+)*$/.test(value)) {
      throw new UsageError(`${flag} must be a field name or a dotted path (request.remote_ip)`);
    }
  }
  const { format, logFormat } = toLineFormat(args);
  // Only JSON lines have named fields: say so rather than ignore the flag.
  if (logFormat !== undefined || (format !== 'auto' && format !== 'json')) {
    const given =
      args.ipField !== undefined
        ? '--ip-field'
        : args.timeField !== undefined
          ? '--time-field'
          : undefined;
    if (given !== undefined) {
      throw new UsageError(
        `${given} names a field of JSON lines: it needs --format json or auto, not ${logFormat ? '--log-format' : `--format ${format}`}`,
      );
    }
  }
  return {
    by: args.by,
    utc: args.utc,
    format,
    ...(logFormat ? { logFormat } : {}),
    ipField: args.ipField,
    timeField: args.timeField,
    ...(filter ? { filter } : {}),
    ...(panels ? { panels } : {}),
  };
}

/** --format, or --log-format (a GoAccess name is a preset) with its time formats, checked. */
function toLineFormat(args: Defaulted<typeof logstatsOptions>): {
  format: LineRules['format'];
  logFormat?: LogFormatSpec;
} {
  const pattern = args.logFormat;
  const times = [
    ['--date-format', args.dateFormat],
    ['--time-format', args.timeFormat],
    ['--datetime-format', args.datetimeFormat],
  ] as const;
  const preset = pattern === undefined ? undefined : GOACCESS_NAMES[pattern.trim().toUpperCase()];
  for (const [flag, value] of times) {
    if (value !== undefined && (pattern === undefined || preset !== undefined)) {
      throw new UsageError(`${flag} goes with a --log-format that has GoAccess specifiers`);
    }
  }
  if (pattern === undefined) return { format: args.format };
  if (args.format !== 'auto') {
    throw new UsageError('--format and --log-format both name the format: give one');
  }
  if (preset !== undefined) return { format: preset };
  const spec: LogFormatSpec = {
    pattern,
    ...(args.dateFormat !== undefined ? { dateFormat: args.dateFormat } : {}),
    ...(args.timeFormat !== undefined ? { timeFormat: args.timeFormat } : {}),
    ...(args.datetimeFormat !== undefined ? { datetimeFormat: args.datetimeFormat } : {}),
  };
  const compiled = compileLogFormat(spec);
  if (typeof compiled === 'string') {
    throw new UsageError(`--log-format "${printable(pattern)}": ${compiled}`);
  }
  return { format: 'auto', logFormat: spec };
}

/** `crew logstats`: the declaration; the work is in run.ts. */
export const logstatsCommand = defineCommand<LogstatsArgs, LogstatsConfig, LogstatsResult>({
  usage: 'logstats <paths..>',
  describe: 'Count requests and distinct client IPs per access-log file, exactly, on every core',
  options: (y) =>
    declareOptions(y, logstatsOptions)
      .example('$0 logstats files/', 'Every log in files/: requests and distinct IPs')
      .example('$0 logstats files/ --by day', 'One row per day, across files, exact')
      .example(
        '$0 logstats files/ --since 7d --exclude-ip 10.0.0.0/8',
        'The last 7 days, without clients in 10.0.0.0/8',
      )
      .example('$0 logstats access.log.1 access.log.2.gz --top 10', 'Two files, top clients')
      .example(
        '$0 logstats files/ --panels status,paths --status 4xx',
        'Status codes and busiest paths of the 4xx responses',
      )
      .example(
        `$0 logstats files/ --log-format '%h %^[%d:%t %^] "%r" %s %b "%R" "%u"'`,
        "Lines in a format given in GoAccess's notation (or nginx's $variables)",
      )
      .example('$0 logstats files/ --json', 'The same as one JSON document')
      .example('$0 logstats files/ --by day --html report.html', 'A page with a chart and tables')
      .example('zcat old.log.gz | $0 logstats -', 'A log from stdin'),
  toConfig: toLogstatsConfig,
  progress: () => 'counting',
  load: () => import('./run.ts'),
});
