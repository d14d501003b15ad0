import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCrew } from '../helpers/cli.ts';

// Hostile file names: what a terminal would act on must reach it escaped.
const line = (ip: string) => `${ip} - - [22/Mar/2021:10:00:00 +0800] "GET / HTTP/1.1" 200 12\n`;
const red = 'e\x1b[31mRED.log';
const newline = 'two\nlines.log';
const chinese = '日志🚀.log';
// Any control character other than the newlines that end lines.
const hasControl = (text: string) => /\p{Cc}/u.test(text.replaceAll('\n', ''));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-names-'));
  await mkdir(join(dir, 'logs'));
  await writeFile(join(dir, 'logs', red), line('1.1.1.1'));
  await writeFile(join(dir, 'logs', newline), line('2.2.2.2') + line('3.3.3.3'));
  await writeFile(join(dir, 'logs', chinese), line('4.4.4.4'));
  await mkdir(join(dir, 'empty\x1b[2J'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('crew logstats with hostile file names', () => {
  it('escapes control characters in the table, and keeps other Unicode', async () => {
    const run = await runCrew(['logstats', 'logs', '--top', '1'], { cwd: dir });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(hasControl(run.stdout)).toBe(false);
    const rows = run.stdout.split('\n');
    expect(rows.slice(0, 4)).toEqual([
      expect.stringMatching(/^file +total +ip +malformed$/),
      expect.stringMatching(/^e\\x1b\[31mRED\.log +1 +1 +0$/),
      expect.stringMatching(/^two\\nlines\.log +2 +2 +0$/),
      expect.stringMatching(/^日志🚀\.log +1 +1 +0$/),
    ]);
    expect(run.stdout).toContain('busiest clients: e\\x1b[31mRED.log\n');
    expect(run.stdout).toContain('busiest clients: two\\nlines.log\n');
  });

  it('keeps the real names in --json, where JSON escapes them', async () => {
    const run = await runCrew(['logstats', 'logs', '--json'], { cwd: dir });
    expect(run.code).toBe(0);
    expect(hasControl(run.stdout)).toBe(false);
    const doc = JSON.parse(run.stdout) as { files: { file: string }[] };
    expect(doc.files.map((f) => f.file)).toEqual([red, newline, chinese]);
  });

  it('escapes names in failure messages and notes on stderr', async () => {
    const missing = await runCrew(['logstats', 'logs', 'gone\x1b[2J\n.log'], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      'crew: 1 file could not be read: gone\\x1b[2J\\n.log (no such file or directory)\n',
    );
    const empty = await runCrew(['logstats', 'empty\x1b[2J'], { cwd: dir });
    expect(empty.code).toBe(0);
    expect(empty.stderr).toBe('crew: no log files in empty\\x1b[2J\n');
  });
});
