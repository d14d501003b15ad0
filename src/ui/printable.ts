/**
 * Text that came from outside (a file name, mostly) made safe to print on a terminal: a
 * name holding `ESC [ 2 J` or a newline must not clear the screen or forge a line of output.
 */

// C0 and C1 controls and DEL (\p{Cc}), line and paragraph separators, the bidirectional
// controls that can make a name read as another (U+061C, U+200E/F, U+202A-E, U+2066-9), and
// UTF-16 surrogates that have no partner (with the u flag a well-formed pair is one code
// point, so only lone halves match). Everything else, Chinese or emoji (with their joiners and
// variation selectors) included, prints as it is.
const UNSAFE = /[\p{Cc}\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]/gu;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * `text` with every unsafe character written as an escape: `\n`, `\r`, `\t`; `\xHH` for
 * other ASCII controls and DEL; `\xHH` for a byte of a file name that was not UTF-8 (carried
 * as a lone surrogate U+DC80..U+DCFF, see `fileNameText`); `\u{HHHH}` for the rest. The
 * output is printable ASCII wherever the input was unsafe, and printing it again changes
 * nothing (a backslash is left as it is).
 */
export function printable(text: string): string {
  return text.replace(UNSAFE, (char) => {
    const named = NAMED[char];
    if (named) return named;
    const code = char.codePointAt(0)!;
    if (code < 0x20 || code === 0x7f) return `\\x${hex(code)}`;
    if (code >= 0xdc80 && code <= 0xdcff) return `\\x${hex(code - 0xdc00)}`;
    return `\\u{${code.toString(16)}}`;
  });
}

const hex = (n: number): string => n.toString(16).padStart(2, '0');
