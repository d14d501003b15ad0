/** Where a line ends, by the one rule every reader of a log shares. Pure. */

/**
 * The first line end ("\n" or "\r": a lone CR ends a line, and CRLF is a line end and an
 * empty line, which counts for nothing) in `bytes[from, to)`, or `to`.
 */
export function lineEnd(bytes: Uint8Array, from: number, to: number): number {
  const part = bytes.subarray(from, to);
  const lf = part.indexOf(0x0a);
  // A CR counts only before that LF: searching the whole rest for one (most logs have none)
  // made every line cost the rest of its chunk, quadratic in lines per chunk.
  const cr = (lf < 0 ? part : part.subarray(0, lf)).indexOf(0x0d);
  const first = cr >= 0 ? cr : lf;
  return first < 0 ? to : from + first;
}
