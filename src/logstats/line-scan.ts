/**
 * The hot loop of logstats in WebAssembly: find each line end ("\n", or "\r", so CRLF ends a
 * line and an empty one, and old Mac files count) 16 bytes at a time (SIMD), and
 * read the common line's client, an IPv4 address followed by " - " or ",", in the same pass.
 * Every other line (IPv6, odd spacing, garbage) goes back to JavaScript, which applies the
 * whole rule of client-ip.ts to it; so the fast path below only has to be right for the lines
 * it accepts, where it gives the same answer as `classifyLine`'s own fast path.
 */
import { assemble } from '../wasm/assemble.ts';
import { MAX_IP_CHARS } from './client-ip.ts';

/** Bytes of input one call can scan: what a reader fills at a time. */
export const INPUT_BYTES = 1 << 19;
/** In `marks`, a line's start has this bit when its client is in `addresses6`. */
export const IPV6_MARK = 0x40000000;

// Memory: a small report, an IPv6 address's pieces, the addresses found, then the input
// region (with room after it for the sentinel and for a 16-byte load that starts at the last
// byte).
const REPORT = 0;
const PIECES = 32;
const OUT = 64;
// The shortest line the fast path accepts is "0.0.0.0,\n": at most one address per 9 bytes.
const OUT_BYTES = Math.ceil(INPUT_BYTES / 9 + 1) * 4;
// IPv6 addresses, 16 bytes each, of lines at least "::,\n" long.
const OUT6 = OUT + OUT_BYTES;
const OUT6_BYTES = Math.ceil(INPUT_BYTES / 4 + 1) * 16;
// With --by, each line it takes: its start and end (see scanBody). Lines are at least 4 bytes.
const MARKS = OUT6 + OUT6_BYTES;
const MARKS_BYTES = Math.ceil(INPUT_BYTES / 4 + 1) * 8;
// What each byte is in an IPv6 address: a hex digit's value, COLON, or OTHER.
const CLASSES = MARKS + MARKS_BYTES;
const COLON = 16;
const OTHER = 32;
const INPUT = CLASSES + 256 + 64 - ((CLASSES + 256) % 64);
const MEMORY_BYTES = INPUT + INPUT_BYTES + 64;

/**
 * Instructions that leave 1 when the client field ends at `at` as the common shape's does,
 * with "," or " - " (before the line's end, $nl), else 0; $c is the byte at `at` after.
 */
const endsField = (at: string): string => `
  local.get ${at} i32.load8_u local.tee $c i32.const 44 i32.eq
  local.get $c i32.const 32 i32.eq
  local.get ${at} i32.const 2 i32.add local.get $nl i32.lt_u i32.and
  local.get ${at} i32.load16_u offset=1 i32.const 0x202d i32.eq i32.and
  i32.or`;

/*
 * The IPv6 client (inside scan, at a field that is not a dotted quad): the URL standard's
 * parser as ipv6.ts has it, read in one pass that ends at the first byte no address holds
 * there, which must end the field as the common shape does, with "," or " - ". A field with
 * a dot (an IPv4 tail), an address that does not parse, or any other end goes back to the
 * caller, whose full rule decides; so only valid addresses are taken here.
 * ::ffff:a.b.c.d written in hex is its IPv4 address, as ipv6Kind has it.
 */
const ipv6Body = `
        ;; its 16-bit pieces, each an i32 at PIECES; $compress is where "::" stood, and $e
        ;; where the address may end after it
        i32.const ${PIECES} i32.const 0 i8x16.splat local.tee $bytes v128.store
        i32.const ${PIECES} local.get $bytes v128.store offset=16
        i32.const 0 local.set $piece
        i32.const -1 local.set $compress
        i32.const 0 local.set $e
        local.get $s local.set $q
        block $parsed
          local.get $s i32.load8_u i32.const 58 i32.eq
          if
            local.get $s i32.load8_u offset=1 i32.const 58 i32.ne br_if $done
            local.get $s i32.const 2 i32.add local.tee $q local.set $e
            i32.const 1 local.set $piece
            i32.const 1 local.set $compress
          end
          loop $pieces
            ;; at $q: a piece, or the second ":" of "::" (the first ended the piece before)
            local.get $q i32.load8_u i32.load8_u offset=${CLASSES} local.tee $d
            i32.const ${COLON} i32.eq
            if
              local.get $piece i32.const 8 i32.eq br_if $done
              local.get $compress i32.const 0 i32.ge_s br_if $done
              local.get $q i32.const 1 i32.add local.tee $q local.set $e
              local.get $piece i32.const 1 i32.add local.tee $piece local.set $compress
              br $pieces
            end
            ;; no hex digit here: the address ends, if just after "::"; else it is no address
            local.get $d i32.const ${OTHER} i32.eq
            if
              local.get $q local.get $e i32.eq br_if $parsed
              br $done
            end
            local.get $piece i32.const 8 i32.eq br_if $done
            ;; up to four hex digits
            i32.const 0 local.set $value
            i32.const 0 local.set $digits
            block $hexEnd
              loop $hex
                local.get $digits i32.const 4 i32.eq br_if $hexEnd
                local.get $q i32.load8_u i32.load8_u offset=${CLASSES} local.tee $d
                i32.const 16 i32.ge_u br_if $hexEnd
                local.get $value i32.const 4 i32.shl local.get $d i32.or local.set $value
                local.get $q i32.const 1 i32.add local.set $q
                local.get $digits i32.const 1 i32.add local.set $digits
                br $hex
              end
            end
            i32.const ${PIECES} local.get $piece i32.const 2 i32.shl i32.add
            local.get $value i32.store
            local.get $piece i32.const 1 i32.add local.set $piece
            ;; then ":" and more, or the address's end (a fifth hex digit is no address)
            local.get $q i32.load8_u i32.load8_u offset=${CLASSES} local.tee $d
            i32.const ${COLON} i32.eq
            if
              local.get $q i32.const 1 i32.add local.set $q
              br $pieces
            end
            local.get $d i32.const 16 i32.lt_u br_if $done
          end
        end
        local.get $q local.set $e
        local.get $e local.get $s i32.sub i32.const ${MAX_IP_CHARS} i32.gt_u br_if $done
        ${endsField('$e')}
        i32.eqz br_if $done

        ;; "::" moves the pieces after it to the end (as ipv6.ts swaps them)
        local.get $compress i32.const 0 i32.ge_s
        if
          local.get $piece local.get $compress i32.sub local.set $swaps
          i32.const 7 local.set $i
          block $moved
            loop $move
              local.get $i i32.eqz br_if $moved
              local.get $swaps i32.const 1 i32.lt_s br_if $moved
              local.get $compress local.get $swaps i32.add i32.const 1 i32.sub
              i32.const 2 i32.shl i32.const ${PIECES} i32.add local.set $d
              i32.const ${PIECES} local.get $i i32.const 2 i32.shl i32.add local.tee $q
              i32.load local.set $value
              local.get $q local.get $d i32.load i32.store
              local.get $d local.get $value i32.store
              local.get $i i32.const 1 i32.sub local.set $i
              local.get $swaps i32.const 1 i32.sub local.set $swaps
              br $move
            end
          end
        else
          local.get $piece i32.const 8 i32.ne br_if $done
        end
        i32.const ${PIECES} i32.load offset=0 i32.const 16 i32.shl
        i32.const ${PIECES} i32.load offset=4 i32.or local.set $w0
        i32.const ${PIECES} i32.load offset=8 i32.const 16 i32.shl
        i32.const ${PIECES} i32.load offset=12 i32.or local.set $w1
        i32.const ${PIECES} i32.load offset=16 i32.const 16 i32.shl
        i32.const ${PIECES} i32.load offset=20 i32.or local.set $w2
        i32.const ${PIECES} i32.load offset=24 i32.const 16 i32.shl
        i32.const ${PIECES} i32.load offset=28 i32.or local.set $w3

        ;; counted: an IPv4-mapped address with the IPv4 ones, the rest apart
        local.get $lines i32.const 1 i32.add local.set $lines
        local.get $w0 local.get $w1 i32.or i32.eqz local.get $w2 i32.const 0xffff i32.eq i32.and
        local.tee $mapped
        if
          local.get $out local.get $n i32.const 2 i32.shl i32.add local.get $w3 i32.store
          local.get $n i32.const 1 i32.add local.set $n
        else
          local.get $out6 local.get $n6 i32.const 4 i32.shl i32.add local.tee $q
          local.get $w0 i32.store
          local.get $q local.get $w1 i32.store offset=4
          local.get $q local.get $w2 i32.store offset=8
          local.get $q local.get $w3 i32.store offset=12
          local.get $n6 i32.const 1 i32.add local.set $n6
        end
        local.get $marks
        if
          local.get $marks local.get $lines i32.const 1 i32.sub i32.const 3 i32.shl i32.add
          local.get $pos local.get $mapped i32.eqz i32.const 30 i32.shl i32.or
          i32.store
          local.get $marks local.get $lines i32.const 1 i32.sub i32.const 3 i32.shl i32.add
          local.get $nl
          i32.store offset=4
        end
        local.get $nl i32.const 1 i32.add local.set $pos
        br $line
`;

/*
 * scan($pos, $end, $out, $marks, $out6) -> the start of the line it stopped at. With $marks
 * (not 0) it also writes each line it takes there, as its start and end (two i32), the start's
 * top bit set when the line is malformed, the next bit when its client is in $out6. With $out6
 * (not 0) it takes IPv6 clients too (ipv6Body), four words each there. It stops at the first line
 * the fast path does not take (report.lineEnd is that line's end) or at the unfinished line at
 * $end (report.lineEnd = $end: the caller has put a "\n" there, so the search always ends).
 * Reports: lineEnd, addresses written to $out, lines counted, malformed lines counted,
 * addresses written to $out6.
 */
const scanBody = `
  i32.const 10 i8x16.splat local.set $newline
  i32.const 13 i8x16.splat local.set $return
  block $done
    loop $line
      ;; the line's end: the first "\\n" or "\\r" from $pos, 16 bytes at a time
      local.get $pos local.set $p
      block $found
        loop $find
          local.get $p v128.load local.tee $bytes local.get $newline i8x16.eq
          local.get $bytes local.get $return i8x16.eq
          v128.or i8x16.bitmask
          local.tee $m br_if $found
          local.get $p i32.const 16 i32.add local.set $p
          br $find
        end
      end
      local.get $p local.get $m i32.ctz i32.add local.tee $nl
      local.get $end i32.ge_u br_if $done

      ;; leading whitespace (space, \\t to \\r); a line of nothing else is blank
      local.get $pos local.set $s
      block $text
        loop $space
          local.get $s local.get $nl i32.eq
          if
            local.get $nl i32.const 1 i32.add local.set $pos
            br $line
          end
          local.get $s i32.load8_u local.tee $c i32.const 32 i32.eq
          local.get $c i32.const 9 i32.sub i32.const 5 i32.lt_u i32.or
          i32.eqz br_if $text
          local.get $s i32.const 1 i32.add local.set $s
          br $space
        end
      end

      ;; digits and dots, parsed as a dotted quad on the way: $bad notes a leading zero, an
      ;; octet over 255, an empty octet or a fourth dot, and the scan goes on to the field's end
      local.get $s local.set $p
      i32.const 0 local.set $value
      i32.const 0 local.set $octet
      i32.const 0 local.set $digits
      i32.const 0 local.set $dots
      i32.const 0 local.set $bad
      block $stop
        loop $digit
          local.get $p i32.load8_u i32.const 48 i32.sub local.tee $c
          i32.const 10 i32.lt_u
          if
            local.get $octet i32.eqz local.get $digits i32.const 0 i32.ne i32.and
            local.get $bad i32.or local.set $bad
            local.get $octet i32.const 10 i32.mul local.get $c i32.add local.tee $octet
            i32.const 255 i32.gt_u
            if
              i32.const 1 local.set $bad
              i32.const 0 local.set $octet
            end
            local.get $digits i32.const 1 i32.add local.set $digits
            local.get $p i32.const 1 i32.add local.set $p
            br $digit
          end
          local.get $c i32.const -2 i32.ne br_if $stop ;; "." is "0" - 2
          local.get $digits i32.eqz local.get $dots i32.const 3 i32.eq i32.or
          local.get $bad i32.or local.set $bad
          local.get $value i32.const 8 i32.shl local.get $octet i32.or local.set $value
          i32.const 0 local.set $octet
          i32.const 0 local.set $digits
          local.get $dots i32.const 1 i32.add local.set $dots
          local.get $p i32.const 1 i32.add local.set $p
          br $digit
        end
      end

      ;; the common shape ends the field with "," or " - "; else it may be an IPv6 address
      block $dotted
        ${endsField('$p')}
        br_if $dotted
        local.get $out6 i32.eqz br_if $done
${ipv6Body}
      end

      local.get $lines i32.const 1 i32.add local.set $lines
      local.get $bad local.get $dots i32.const 3 i32.ne i32.or local.get $digits i32.eqz i32.or
      local.set $bad
      ;; with --by, the line's start (its top bit set when malformed) and end, for its time
      local.get $marks
      if
        local.get $marks local.get $lines i32.const 1 i32.sub i32.const 3 i32.shl i32.add
        local.get $pos local.get $bad i32.const 31 i32.shl i32.or
        i32.store
        local.get $marks local.get $lines i32.const 1 i32.sub i32.const 3 i32.shl i32.add
        local.get $nl
        i32.store offset=4
      end
      local.get $bad
      if
        local.get $malformed i32.const 1 i32.add local.set $malformed
      else
        local.get $out local.get $n i32.const 2 i32.shl i32.add
        local.get $value i32.const 8 i32.shl local.get $octet i32.or
        i32.store
        local.get $n i32.const 1 i32.add local.set $n
      end
      local.get $nl i32.const 1 i32.add local.set $pos
      br $line
    end
  end
  i32.const ${REPORT} local.get $nl i32.store offset=0
  i32.const ${REPORT} local.get $n i32.store offset=4
  i32.const ${REPORT} local.get $lines i32.store offset=8
  i32.const ${REPORT} local.get $malformed i32.store offset=12
  i32.const ${REPORT} local.get $n6 i32.store offset=16
  local.get $pos
`;

/** The module's bytes, assembled at the first scanner: loading this file costs nothing. */
const assembleScanner = (): Uint8Array =>
  assemble({
    memoryPages: Math.ceil(MEMORY_BYTES / 65536),
    functions: [
      {
        name: 'scan',
        params: [
          ['$pos', 'i32'],
          ['$end', 'i32'],
          ['$out', 'i32'],
          ['$marks', 'i32'],
          ['$out6', 'i32'],
        ],
        result: 'i32',
        locals: [
          ...['$p', '$m', '$nl', '$s', '$c', '$value', '$octet', '$digits', '$dots', '$bad'].map(
            (name) => [name, 'i32'] as const,
          ),
          ...['$n', '$lines', '$malformed', '$n6'].map((name) => [name, 'i32'] as const),
          ...['$e', '$q', '$piece', '$compress', '$d', '$i', '$swaps', '$mapped'].map(
            (name) => [name, 'i32'] as const,
          ),
          ...['$w0', '$w1', '$w2', '$w3'].map((name) => [name, 'i32'] as const),
          ['$newline', 'v128'],
          ['$return', 'v128'],
          ['$bytes', 'v128'],
        ],
        body: scanBody,
      },
    ],
  });

// Node has WebAssembly; TypeScript only types it in the DOM lib, so name the parts we use.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
};

type ScanFunction = (pos: number, end: number, out: number, marks: number, out6: number) => number;

let compiled: object | undefined;
/** Scanners whose tallies are done: their memory is already paged in (see scratch.ts). */
const idle: LineScanner[] = [];

/** One instance of the scanner, with its own memory: the input region and the results. */
export class LineScanner {
  /** All of the scanner's memory; the input region starts at `inputStart`. */
  readonly memory: Uint8Array;
  readonly inputStart = INPUT;
  /** The IPv4 addresses of the last call, as uint32. */
  readonly addresses: Uint32Array;
  /** With `scan(..., ..., true)`: the IPv6 addresses of the last call, four words each. */
  readonly addresses6: Uint32Array;
  readonly #report: Uint32Array;
  readonly #scan: ScanFunction;
  /**
   * With `scan(..., true)`: the lines the last call took, in order, as a start and an end
   * each, a malformed line's start with its top bit set, an IPv6 client's with the next bit
   * (IPV6_MARK); the others' addresses are in `addresses`, in the same order.
   */
  readonly marks: Uint32Array;

  /** A scanner from this process's idle ones, or a new one. */
  static take(): LineScanner {
    return idle.pop() ?? new LineScanner();
  }

  /** Gives the scanner back for the next tally. */
  release(): void {
    if (!idle.includes(this)) idle.push(this);
  }

  constructor() {
    compiled ??= new WebAssembly.Module(assembleScanner());
    const { exports } = new WebAssembly.Instance(compiled);
    const buffer = (exports['memory'] as { buffer: ArrayBuffer }).buffer;
    this.memory = new Uint8Array(buffer);
    this.addresses = new Uint32Array(buffer, OUT, OUT_BYTES / 4);
    this.addresses6 = new Uint32Array(buffer, OUT6, OUT6_BYTES / 4);
    this.#report = new Uint32Array(buffer, REPORT, 5);
    this.marks = new Uint32Array(buffer, MARKS, MARKS_BYTES / 4);
    this.#scan = exports['scan'] as ScanFunction;
    this.memory.fill(OTHER, CLASSES, CLASSES + 256);
    this.memory[CLASSES + 0x3a] = COLON;
    for (let digit = 0; digit < 16; digit++) {
      const text = digit.toString(16);
      this.memory[CLASSES + text.charCodeAt(0)] = digit;
      this.memory[CLASSES + text.toUpperCase().charCodeAt(0)] = digit;
    }
  }

  /**
   * Scans from `pos` (a line start) in `[pos, end)` of memory, until a line it cannot take;
   * returns that line's start, and reports its end and what was counted before it; with
   * `withMarks`, where each line it took starts and ends (`marks`); with `withIPv6`, lines
   * whose client is a valid IPv6 address too (`addresses6`).
   */
  scan(pos: number, end: number, withMarks = false, withIPv6 = false): number {
    this.memory[end] = 0x0a;
    return this.#scan(pos, end, OUT, withMarks ? MARKS : 0, withIPv6 ? OUT6 : 0);
  }

  /** That line's end: `end` when it is unfinished, else a line for the full rule. */
  get lineEnd(): number {
    return this.#report[0]!;
  }

  /** Addresses the last call wrote to `addresses[0 .. count)`. */
  get count(): number {
    return this.#report[1]!;
  }

  /** Lines (not blank) the last call counted, of which `malformed` were malformed. */
  get lines(): number {
    return this.#report[2]!;
  }

  get malformed(): number {
    return this.#report[3]!;
  }

  /** IPv6 addresses the last call wrote to `addresses6[0 .. 4 * count6)`. */
  get count6(): number {
    return this.#report[4]!;
  }
}
