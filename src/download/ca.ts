/**
 * `--cacert FILE`: certificates of private CAs that HTTPS downloads trust besides the
 * system's. The parent reads the file once; its PEM text (not its path) travels with every
 * request, so a worker thread, a worker process and a queue worker on another machine all
 * trust the same CAs without reading a file of the user's.
 */
import { X509Certificate } from 'node:crypto';

/**
 * The most PEM text --cacert may hold: a private CA or a few dozen (a certificate is 1-2
 * KiB), not a whole system bundle. It travels with every request to a worker.
 */
export const MAX_CA_BYTES = 64 * 1024;

/** Why a --cacert over MAX_CA_BYTES is refused. */
export const CA_TOO_BIG = `holds more than ${MAX_CA_BYTES / 1024} KiB; give only the CAs to add (the system's are trusted anyway)`;

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * What is wrong with `text` as --cacert's content, or undefined when it is one or more PEM
 * certificates (and nothing but whitespace or comments around them) that parse.
 */
export function caProblem(text: string): string | undefined {
  if (Buffer.byteLength(text) > MAX_CA_BYTES) return CA_TOO_BIG;
  const blocks = text.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) return 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)';
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch {
      return `certificate ${index + 1} is not a valid PEM certificate`;
    }
  }
  return undefined;
}
