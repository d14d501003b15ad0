/**
 * `<out>/crew-manifest.jsonl`: one JSON line per finished row, appended as it finishes, so an
 * interrupted run loses nothing it had finished, and a re-run knows what to skip.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export const MANIFEST = 'crew-manifest.jsonl';

export type RowStatus = 'ok' | 'failed' | 'skipped';

export interface ManifestLine {
  readonly row: number;
  readonly id: string;
  readonly name: string;
  readonly url: string;
  readonly file: string | null;
  readonly status: RowStatus;
  readonly http: number | null;
  readonly bytes: number;
  readonly sha256: string | null;
  readonly contentType: string | null;
  readonly attempts: number;
  readonly error: string | null;
  readonly ms: number;
}

/** Where a finished row's file is, keyed by row and URL (a changed CSV does not match). */
export type Done = Map<string, { file: string; bytes: number }>;

export const doneKey = (row: number, url: string): string => `${row}\t${url}`;

/** The rows a previous run finished (ok or skipped), last line winning; none if no manifest. */
export async function readManifest(path: string): Promise<Done> {
  const done: Done = new Map();
  let stream;
  try {
    stream = createReadStream(path, 'utf8');
    await once(stream, 'open');
  } catch {
    return done;
  }
  for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
    let line: ManifestLine;
    try {
      line = JSON.parse(text) as ManifestLine;
    } catch {
      continue; // a line cut short by a crash
    }
    const key = doneKey(line.row, line.url);
    if ((line.status === 'ok' || line.status === 'skipped') && line.file) {
      done.set(key, { file: line.file, bytes: line.bytes });
    } else {
      done.delete(key);
    }
  }
  return done;
}

/** Appends lines; `close()` flushes them to disk. */
export class ManifestWriter {
  readonly #stream: WriteStream;
  constructor(path: string) {
    this.#stream = createWriteStream(path, { flags: 'a' });
  }
  write(line: ManifestLine): void {
    this.#stream.write(`${JSON.stringify(line)}\n`);
  }
  async close(): Promise<void> {
    this.#stream.end();
    await once(this.#stream, 'close');
  }
}
