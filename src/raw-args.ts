/**
 * Command-line arguments as the bytes that were typed. Node decodes argv as UTF-8 and turns
 * bytes that are not UTF-8 into U+FFFD, so a file named `n\xff.log` given by name could not
 * be opened; on Linux the kernel still holds the bytes, in /proc/self/cmdline.
 */
import { isUtf8 } from 'node:buffer';
import { readFileSync } from 'node:fs';

/**
 * `args` with each one that lost bytes (it holds U+FFFD) replaced by the raw argument it was
 * decoded from, taken in command-line order; an argument no raw one decodes to stays as it is.
 * Pure, for tests: `raw` is the command line split at its NULs.
 */
export function recoverBytes(
  args: readonly string[],
  raw: readonly Uint8Array[],
): (string | Buffer)[] {
  const lossy = new Map<string, Buffer[]>();
  for (const bytes of raw) {
    if (isUtf8(bytes)) continue;
    const buffer = Buffer.from(bytes);
    const text = buffer.toString();
    lossy.set(text, [...(lossy.get(text) ?? []), buffer]);
  }
  return args.map((arg) => (arg.includes('\uFFFD') ? (lossy.get(arg)?.shift() ?? arg) : arg));
}

/** `args` with their typed bytes where decoding lost some (see recoverBytes). */
export function argsAsTyped(args: readonly string[]): (string | Buffer)[] {
  if (!args.some((arg) => arg.includes('\uFFFD'))) return [...args];
  let raw: Buffer[] = [];
  try {
    const line = readFileSync('/proc/self/cmdline');
    for (let from = 0; from < line.length;) {
      const end = line.indexOf(0, from);
      const to = end === -1 ? line.length : end;
      raw.push(line.subarray(from, to));
      from = to + 1;
    }
  } catch {
    raw = []; // not Linux: the names stay as Node decoded them
  }
  return recoverBytes(args, raw);
}
