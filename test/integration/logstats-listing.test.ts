import { spawn } from 'node:child_process';
import { chmod, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, crewCommand, runCrew } from '../helpers/cli.ts';
import { scratchDir, spawnAsNobody } from '../helpers/nobody.ts';

// How logstats lists a directory: unreadable parts, symbolic links, names that are not UTF-8.
const line = (ip: string) => `${ip} - - [22/Mar/2021:10:00:00 +0800] "GET / HTTP/1.1" 200 12\n`;
const notUtf8 = Buffer.from([0x6e, 0xff, 0x2e, 0x6c, 0x6f, 0x67]); // "n\xff.log"

interface Doc {
  files: { file: string; total: number }[];
  all: { files: number; total: number; ip: number };
  failed: { file: string; error: string }[];
}

let root: string;
let tree: string;
beforeAll(async () => {
  // Reachable by uid 65534: the tests run crew as nobody too.
  root = await scratchDir('crew-listing-', 0o755);
  tree = join(root, 'tree');
  const outside = join(root, 'outside');
  for (const dir of ['a/b', 'c', 'secret/deeper'])
    await mkdir(join(tree, dir), { recursive: true });
  await mkdir(outside);
  await writeFile(join(tree, 'a', 'one.log'), line('1.1.1.1'));
  await writeFile(join(tree, 'a', 'b', 'two.log'), line('2.2.2.2'));
  await writeFile(join(tree, 'secret', 'deeper', 'hidden.log'), line('9.9.9.9'));
  await writeFile(Buffer.concat([Buffer.from(`${tree}/c/`), notUtf8]), line('3.3.3.3'));
  await writeFile(join(outside, 'far.log'), line('4.4.4.4'));
  await mkdir(join(outside, 'more'));
  await writeFile(join(outside, 'more', 'farther.log'), line('5.5.5.5'));
  await symlink(join(outside, 'far.log'), join(tree, 'c', 'far.log')); // a file elsewhere
  await symlink('../a/one.log', join(tree, 'c', 'again.log')); // a file already listed
  await symlink('..', join(tree, 'a', 'b', 'up')); // a loop
  await symlink(join(outside, 'more'), join(tree, 'elsewhere')); // a directory elsewhere
  await symlink(join(root, 'nothing'), join(tree, 'c', 'gone.log')); // leads nowhere
  await chmod(join(tree, 'secret'), 0o700); // root's: nobody cannot list it
  await mkdir(join(root, 'tmp'));
  await chmod(join(root, 'tmp'), 0o1777); // where the single binary, as nobody, keeps its cache
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function asNobody(args: string[]) {
  const [command, prefix] = crewCommand();
  await chmod(dirname(command), 0o755).catch(() => undefined); // a binary's private copy
  return collect(
    spawnAsNobody(command, [...prefix, ...args], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', HOME: '/nonexistent', TMPDIR: join(root, 'tmp') },
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
}

describe('crew logstats listing a directory', () => {
  it('--recursive: reports an unreadable subdirectory, counts the rest, exits 1', async () => {
    const run = await asNobody(['logstats', 'tree', '-r', '--json']);
    expect(run.code).toBe(1);
    const doc = JSON.parse(run.stdout) as Doc;
    expect(doc.files.map((f) => f.file)).toEqual([
      'a/b/two.log',
      'a/one.log',
      'c/far.log',
      'c/n\udcff.log',
      'elsewhere/farther.log',
    ]);
    expect(doc.all).toMatchObject({ files: 5, total: 5, ip: 5 });
    expect(doc.failed).toEqual([
      { file: 'c/gone.log', error: 'broken link: no such file or directory' },
      { file: 'secret', error: 'permission denied' },
    ]);
    expect(run.stderr).toBe(
      'crew: 2 files could not be read: c/gone.log (broken link: no such file or directory); ' +
        'secret (permission denied)\n',
    );
  });

  it('follows links to files, each file once, and links to directories only with -r', async () => {
    const run = await runCrew(['logstats', join(tree, 'c'), join(tree, 'a'), '--json'], {
      cwd: root,
    });
    expect(run.code).toBe(1); // c/gone.log
    const doc = JSON.parse(run.stdout) as Doc;
    expect(doc.files.map((f) => f.file)).toEqual([
      `${tree}/c/again.log`, // a/one.log through c/: listed once per command-line directory
      `${tree}/c/far.log`,
      `${tree}/c/n\udcff.log`,
      `${tree}/a/one.log`,
    ]);
    expect(doc.failed.map((f) => f.file)).toEqual([`${tree}/c/gone.log`]);
    const flat = await runCrew(['logstats', 'tree'], { cwd: root });
    expect(flat.stderr).toBe('crew: no log files in tree\n'); // not elsewhere/ without -r
    expect(flat.code).toBe(0);
  });

  it('reads a file whose name is not UTF-8, in every runtime, and shows its bytes', async () => {
    for (const runtime of ['process', 'thread', 'inline']) {
      const json = await runCrew(['logstats', 'c', '--runtime', runtime, '--json'], {
        cwd: tree,
      });
      const doc = JSON.parse(json.stdout) as Doc;
      expect(doc.files.find((f) => f.file === 'n\udcff.log')).toMatchObject({ total: 1 });
    }
    const text = await runCrew(['logstats', 'c'], { cwd: tree });
    expect(text.stdout).toMatch(/^n\\xff\.log +1 +1 +0$/m);
  });

  it('reads a file named on the command line in bytes that are not UTF-8', async () => {
    const [command, prefix] = crewCommand();
    // Node cannot hand such bytes to a child: bash puts them on crew's command line.
    const script = 'exec "$@" "$(printf \'c/n\\377.log\')"';
    const run = await collect(
      spawn('bash', ['-c', script, 'bash', command, ...prefix, 'logstats', '--json'], {
        cwd: tree,
        env: { ...process.env, NO_COLOR: '1' },
      }),
    );
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toMatchObject({
      files: [{ file: 'c/n\udcff.log', total: 1 }],
      failed: [],
    });
  });
});
