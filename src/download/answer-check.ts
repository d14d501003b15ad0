/**
 * What the parent accepts of a worker's answer about where a body landed. A worker on another
 * machine answers through the queue's tables, and whoever can write them can forge an answer:
 * a "temp file" outside the run's temp folder (`/etc/shadow`) would be linked or copied into
 * --out, or read into a webdataset tar; an extension with a slash would put a file outside
 * its folder. So an answer that lands anywhere but where the parent asked is refused (the
 * row fails, nothing is read or placed). Pure.
 */
import { basename, dirname, resolve } from 'node:path';
import type { FetchInput, RequestResult } from './fetch.ts';

/** A temp file's name as store.ts' newTempFile draws it. */
const TEMP_NAME = /^[0-9a-f]{16}\.part$/;

/** An extension as the content sniffer gives it ('' when unknown): no dot, no slash. */
const EXTENSION = /^[A-Za-z0-9]{0,16}$/;

/**
 * Why `result`, the answer to `input`, cannot be trusted; undefined when it lands where it
 * was asked to (or is not about a body at all: a failure, a redirect).
 */
export function answerProblem(result: RequestResult, input: FetchInput): string | undefined {
  if (result.kind !== 'ok') return undefined;
  if (typeof result.ext !== 'string' || !EXTENSION.test(result.ext)) {
    return 'an extension that is not one';
  }
  if ('temp' in result) {
    const temp = result.temp;
    if (typeof temp !== 'string' || !TEMP_NAME.test(basename(temp)))
      return 'a temp file crew did not name';
    return dirname(resolve(temp)) === resolve(input.tempFolder)
      ? undefined
      : 'a temp file outside the run’s temp folder';
  }
  if ('body' in result) {
    if (input.bodyInMemory !== true) return 'a body in memory that was not asked for';
    return result.body instanceof Uint8Array ? undefined : 'a body that is not bytes';
  }
  // A worker never names a file (the parent does): an answer that says it did is forged.
  return 'a body that is neither in a temp file nor in memory';
}
