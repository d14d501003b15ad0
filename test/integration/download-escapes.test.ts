/**
 * Terminal escapes in a CSV, its header, and a server's answers: printed escaped on stdout
 * and stderr (a row could set the window title, clear the screen or forge a line of the
 * summary), kept as they are in --json and the manifest.
 */
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCrew, type CrewRun } from '../helpers/cli.ts';

const env = { HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '', NO_PROXY: '*' };
/** The C0 controls but newline, DEL, and the C1 controls (0x9b is CSI to many terminals) in `text`. */
const rawControls = (text: string): string[] =>
  [...text].filter((c) => {
    const code = c.codePointAt(0)!;
    return (code < 0x20 && code !== 0x0a) || (code >= 0x7f && code <= 0x9f);
  });
const TITLE = '\u001b]0;pwned\u0007';
const CLEAR = '\u001b[2J';

let server: Server;
let url: string;
let dir: string;

beforeAll(async () => {
  // Answers every request with a page that is not an image, labelled with a C1 control
  // (a byte Node's header check lets through: obs-text).
  server = createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'text/x\u009b2J' }).end('just some text, not an image');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(join(tmpdir(), 'crew-escapes-'));
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await rm(dir, { recursive: true, force: true });
});

function expectNoRawControl(run: CrewRun): void {
  expect(rawControls(run.stdout)).toEqual([]);
  expect(rawControls(run.stderr)).toEqual([]);
}

describe('input printed on a terminal', () => {
  it("a failed row's URL and a server's content type are escaped; --json keeps them", async () => {
    const csv = join(dir, 'rows.csv');
    const evil = `http://127.0.0.1:9/${TITLE}${CLEAR}`;
    await writeFile(csv, `title,${evil}\nhtml,${url}/page\n`);
    const out = join(dir, 'rows');
    const text = await runCrew(['download-csv', csv, '-o', out], { env });
    expect(text.code).toBe(1);
    expectNoRawControl(text);
    expect(text.stdout).toContain('http://127.0.0.1:9/\\x1b]0;pwned\\x07\\x1b[2J');
    expect(text.stdout).toMatch(/not an image: .*text\/x\\u\{9b\}2j/i);

    const json = await runCrew(['download-csv', csv, '-o', out, '--json'], { env });
    expect(json.code).toBe(1);
    const failures = (JSON.parse(json.stdout) as { failures: { url: string; error: string }[] })
      .failures;
    expect(failures.map((f) => f.url)).toContain(evil);
    expect(failures.map((f) => f.error).join()).toMatch(/not an image: .*text\/x\u009b2j/i);
    const manifest = await readFile(join(out, 'crew-manifest.jsonl'), 'utf8');
    expect(manifest).toContain(JSON.stringify(evil));
  });

  it('a header quoted in a --url-column error is escaped', async () => {
    const csv = join(dir, 'header.csv');
    await writeFile(csv, `na${CLEAR}me,link${TITLE}\na,${url}/a.png\n`);
    const run = await runCrew(
      ['download-csv', csv, '-o', join(dir, 'header'), '--url-column', 'x'],
      {
        env,
      },
    );
    expect(run.code).toBe(2);
    expectNoRawControl(run);
    expect(run.stderr).toContain('the header has: na\\x1b[2Jme, link\\x1b]0;pwned\\x07');
  });

  it('an unknown option or command typed with escapes is named escaped', async () => {
    for (const args of [
      ['download-csv', `--x${TITLE}`, 'x.csv'],
      ['download-csv', 'x.csv', `--y${CLEAR}`],
      [`dl${CLEAR}`],
    ]) {
      const run = await runCrew(args, { cwd: dir, env });
      expect(run.code).toBe(2);
      expectNoRawControl(run);
      expect(run.stderr).toMatch(/\\x1b/);
    }
  });
});
