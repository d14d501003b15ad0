/**
 * The downloaders of the network sets, side by side with the same number of requests in
 * flight: crew (its defaults, and -c like the others), curl --parallel, aria2c and wget2,
 * each trusting the bench's CA its own way. The tools are installed with apt when missing.
 */
import { ensureTools, runs, type AptTool } from './apt.ts';

/** A downloader, as the network sets run it in a set's directory. */
export interface NetworkTool {
  readonly name: string;
  /** Its command line: `inFlight` requests at once, `ca` the CA certificate to trust. */
  readonly argv: (inFlight: number, ca: string) => string[];
  readonly env?: (ca: string) => Record<string, string>;
  /** The directory it writes, relative to the set's directory. */
  readonly out: string;
  /** Where file `i` ends up, relative to `out`. */
  readonly file: (i: number) => string;
  /** What its rows call it in the tables: crew's variants say how they differ. */
  readonly label: (inFlight: number) => string;
}

/** The commands the network sets run, and their Debian packages. */
const TOOLS: readonly AptTool[] = [
  { command: '/usr/sbin/nginx', package: 'nginx-light', check: ['-v'] },
  { command: 'curl', package: 'curl', check: ['--version'] },
  { command: 'aria2c', package: 'aria2', check: ['--version'] },
  { command: 'wget2', package: 'wget2', check: ['--version'] },
  { command: 'openssl', package: 'openssl', check: ['version'] },
];

/** Whether `command` (nginx, curl, aria2c, wget2 or openssl) can run now. */
export function available(command: string): boolean {
  const tool = TOOLS.find((t) => t.command === command || t.command.endsWith(`/${command}`));
  return tool !== undefined && runs(tool);
}

/**
 * Installs with apt what is missing (as root, after `apt-get update`); returns a note for
 * each command that still cannot be had.
 */
export const ensureCommands = (log: (line: string) => void): string[] =>
  ensureTools(TOOLS, 'network', log);

/**
 * crew download-csv with `extra` arguments; `build` names another build of crew (a baseline
 * to compare with in the same run), shown before its label.
 */
export function crewTool(
  crew: readonly string[],
  extra: (inFlight: number) => string[],
  build = '',
): NetworkTool {
  return {
    name: 'crew',
    // --cacert, curl's name, as a user would trust a private CA.
    argv: (inFlight, ca) => [
      ...crew,
      'download-csv',
      'list.csv',
      '-o',
      'crew-out',
      '--quiet',
      '--cacert',
      ca,
      ...extra(inFlight),
    ],
    out: 'crew-out',
    file: (i) => `img${i}.png`,
    label: (inFlight) => {
      const args = extra(inFlight).join(' ');
      return `${build}${args ? `crew ${args}` : 'crew (defaults)'}`;
    },
  };
}

/** curl, aria2c and wget2, those that are installed. */
export function otherTools(): NetworkTool[] {
  const tools: NetworkTool[] = [];
  if (available('curl')) {
    tools.push({
      name: 'curl',
      argv: (inFlight, ca) => [
        ...['curl', '-s', '--parallel', '--parallel-max', String(inFlight)],
        ...['--cacert', ca, '--create-dirs', '-K', 'curl.cfg'],
      ],
      out: 'curl-out',
      file: (i) => `img${i}.png`,
      label: (inFlight) => `curl --parallel --parallel-max ${inFlight}`,
    });
  }
  if (available('aria2c')) {
    tools.push({
      name: 'aria2c',
      argv: (inFlight, ca) => [
        ...['aria2c', '-q', `-j${inFlight}`, '--file-allocation=none'],
        ...[`--ca-certificate=${ca}`, '-d', 'aria-out', '-i', 'aria2.txt'],
      ],
      out: 'aria-out',
      file: (i) => `img${i}.png`,
      label: (inFlight) => `aria2c -j${inFlight}`,
    });
  }
  if (available('wget2')) {
    tools.push({
      name: 'wget2',
      // Its state files (HSTS, HPKP, OCSP) off: a run must not change the next one.
      argv: (inFlight, ca) => [
        ...['wget2', '-q', `--max-threads=${inFlight}`, '--no-directories', '-P', 'wget-out'],
        ...[`--ca-certificate=${ca}`, '--no-hsts', '--no-hpkp', '--no-ocsp', '-i', 'wget2.txt'],
      ],
      out: 'wget-out',
      file: (i) => `${i}.png`,
      label: (inFlight) => `wget2 --max-threads=${inFlight}`,
    });
  }
  return tools;
}
