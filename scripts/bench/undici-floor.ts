/**
 * The floor of crew's own stack: a bare undici loop, one thread, N requests in flight on one
 * keep-alive agent, each body written to its own file. No names, hashes, manifest or pool.
 *
 * usage: node undici-floor.ts LIST OUTDIR IN_FLIGHT, where LIST has one `name,url` per line.
 * A request that fails is counted and skipped (the bench's rows to dead hosts); any makes
 * the exit status 1.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request } from 'undici';

const [listing, out, inFlight] = process.argv.slice(2) as [string, string, string];
const pairs = (await readFile(listing, 'utf8'))
  .split('\n')
  .filter(Boolean)
  .map((line) => line.split(',', 2) as [string, string]);
await mkdir(out, { recursive: true });
const dispatcher = new Agent({ connections: Number(inFlight) });
let next = 0;
let failed = 0;
const loop = async (): Promise<void> => {
  while (next < pairs.length) {
    const [name, url] = pairs[next++]!;
    try {
      const response = await request(url, { dispatcher });
      await writeFile(join(out, `${name}.png`), Buffer.from(await response.body.arrayBuffer()));
    } catch {
      failed++;
    }
  }
};
await Promise.all(Array.from({ length: Number(inFlight) }, loop));
await dispatcher.close();
if (failed > 0) {
  console.error(`${failed} of ${pairs.length} requests failed`);
  process.exitCode = 1;
}
