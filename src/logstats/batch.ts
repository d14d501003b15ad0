/**
 * Many small files in one task. Servers that rotate logs often leave thousands of small
 * files; a task per file cost more in messages, set hand-overs and merges than reading the
 * file. A batch counts each file on its own (its exact numbers, or why it failed) and sends
 * back one union of all of them.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { reasonOf } from '../errors.ts';
import type { LineRules } from './formats/index.ts';
import { scanRange } from './read.ts';
import { SetUnion } from './set-union.ts';
import type { ScanRange } from './split.ts';
import type { PanelData } from './panels.ts';
import type { TopClient } from './summary.ts';
import { ClientUnion } from './client-union.ts';
import { distinctClients, type TallyResult } from './tally.ts';

/** One file's numbers in a batch: its clients are in the batch's union. */
export interface FileCount {
  readonly total: number;
  readonly malformed: number;
  /** Lines a filter left out. */
  readonly filtered: number;
  readonly bytes: number;
  /** Its distinct clients. */
  readonly ip: number;
  readonly warning?: string;
  /** Its busiest clients (with --top). */
  readonly top?: readonly TopClient[];
  /** With --panels: its own counts (the batch's union holds only its groups'). */
  readonly panels?: PanelData;
}

/** A file of a batch that could not be counted. */
export interface FileFailed {
  readonly error: string;
}

/** What a batch found: each file's numbers in the order asked, and the union of them all. */
export interface FilesResult {
  readonly files: readonly (FileCount | FileFailed)[];
  readonly union: TallyResult;
}

/** Bytes of files between two turns of the event loop. */
const YIELD_BYTES = 8 * 2 ** 20;

/**
 * Counts whole files one after another; `top` is how many busiest clients to list for each
 * (0: none). A file that fails is reported as such and the others are still counted.
 */
export async function scanFiles(
  files: readonly ScanRange[],
  top: number,
  rules?: LineRules,
  signal?: AbortSignal,
): Promise<FilesResult> {
  const union = new SetUnion(top > 0);
  try {
    const counts: (FileCount | FileFailed)[] = [];
    let unyielded = 0;
    for (const file of files) {
      try {
        const part = await scanRange(file, top > 0, rules, signal);
        counts.push(countOf(part, top));
        union.add(part);
      } catch (error) {
        if (signal?.aborted) throw error;
        counts.push({ error: reasonOf(error) });
      }
      // Let the event loop run now and then (Ctrl-C inline, the orphan guard in a child).
      unyielded += file.end - file.start + 4096;
      if (unyielded >= YIELD_BYTES) {
        unyielded = 0;
        await yieldToEventLoop();
        signal?.throwIfAborted();
      }
    }
    return { files: counts, union: union.toResult() };
  } finally {
    union.release();
  }
}

/** One file's numbers from its scan. */
export function countOf(part: TallyResult, top: number): FileCount {
  let busiest: readonly TopClient[] | undefined;
  if (top > 0) {
    const union = new ClientUnion(true);
    union.add(part);
    busiest = union.top(top);
  }
  return {
    total: part.total,
    malformed: part.malformed,
    filtered: part.filtered,
    bytes: part.bytes,
    ip: distinctClients(part),
    ...(part.warning !== undefined ? { warning: part.warning } : {}),
    ...(busiest ? { top: busiest } : {}),
    ...(part.panels ? { panels: part.panels } : {}),
  };
}
