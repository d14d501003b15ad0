import { openSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { collect, runCrew, spawnCrew } from '../helpers/cli.ts';

describe('where results go', () => {
  it('exits quietly with 0 when the reader of stdout goes away (| head -1)', async () => {
    for (const args of [
      ['logstats', 'samples/logs', '--json'],
      ['sum', '1e6', '--json'],
    ]) {
      const child = spawnCrew(args);
      child.stdout!.destroy(); // the pipe's reader is gone before crew prints
      const run = await collect(child);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
    }
  });

  it('says so in one line, exit 1, when stdout cannot be written (a full disk)', async () => {
    const child = spawnCrew(['logstats', 'samples/logs', '--json'], {
      stdio: ['pipe', openSync('/dev/full', 'w'), 'pipe'],
    });
    const run = await collect(child);
    expect(run.stderr).toMatch(/^crew: cannot write the results: /);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.code).toBe(1);
  });

  // Node's recursive mkdir spun there for ever, at full CPU, deaf to Ctrl-C and SIGTERM.
  it('refuses an --out under /proc at once, exit 1', async () => {
    for (const out of ['/proc/crew-out', '/proc/self/crew-out/sub']) {
      const run = await runCrew(['download-csv', 'samples/images/list.tsv', '-o', out], {
        timeoutMs: 20_000,
      });
      expect(run.stderr).toContain(`crew: cannot use ${out}: no such file or directory`);
      expect(run.code).toBe(1);
    }
  });
});
