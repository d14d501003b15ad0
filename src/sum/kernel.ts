import { uleb } from '../wasm/assemble.ts';
import { planBlocks, type Block } from './plan.ts';

/**
 * The inner loop of `crew sum`, as WebAssembly: every integer of [a, b) really is added, in
 * 64-bit lanes two at a time (SIMD), with four independent accumulators so no add waits on the
 * previous one. V8 compiles this to a tight SSE loop: several additions per clock cycle, where
 * a JavaScript `+=` on doubles manages a quarter of one (and loses exactness past 2^53).
 * Callers keep every partial sum within 64 bits (see `planBlocks`: numbers near the ends of
 * int64 are added less an offset) and combine blocks as BigInt.
 *
 * (func (export "sum") (param $a i64) (param $b i64) (result i64)
 *   n = (b - a) >> 3; v0..v3 = (a,a+1) (a+2,a+3) (a+4,a+5) (a+6,a+7); step = (8,8)
 *   repeat n times: acc_k += v_k; v_k += step
 *   t = sum of s for s in [b - ((b - a) & 7), b)            ;; scalar tail
 *   return t + lanes of (acc0 + acc1 + acc2 + acc3))
 */
const lane = (x: number, y: number): number[] => [...le64(x), ...le64(y)];
function le64(x: number): number[] {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigInt64(0, BigInt(x), true);
  return [...bytes];
}
const get = (i: number): number[] => [0x20, i];
const set = (i: number): number[] => [0x21, i];
const v128 = (x: number, y: number): number[] => [0xfd, 0x0c, ...lane(x, y)];
const addI64x2 = [0xfd, 0xce, 0x01];
const [A, B, ACC0, V0, STEP, N, T] = [0, 1, 2, 6, 10, 11, 12];

const code = [
  // locals: 9 x v128 (acc0..3, v0..3, step), 2 x i64 (n, t)
  ...[0x02, 0x09, 0x7b, 0x02, 0x7e],
  ...get(B),
  ...get(A),
  0x7d,
  0x42,
  0x03,
  0x88,
  ...set(N), // n = (b - a) >> 3
  ...get(A),
  0xfd,
  0x12,
  ...v128(0, 1),
  ...addI64x2,
  ...set(V0), // v0 = splat(a) + (0,1)
  ...[1, 2, 3].flatMap((k) => [...get(V0), ...v128(2 * k, 2 * k), ...addI64x2, ...set(V0 + k)]),
  ...v128(8, 8),
  ...set(STEP),
  ...get(N),
  0x50,
  0x45,
  0x04,
  0x40,
  0x03,
  0x40, // if n != 0: loop
  ...[0, 1, 2, 3].flatMap((k) => [...get(ACC0 + k), ...get(V0 + k), ...addI64x2, ...set(ACC0 + k)]),
  ...[0, 1, 2, 3].flatMap((k) => [...get(V0 + k), ...get(STEP), ...addI64x2, ...set(V0 + k)]),
  ...get(N),
  0x42,
  0x01,
  0x7d,
  0x22,
  N,
  0x50,
  0x45,
  0x0d,
  0x00, // n -= 1; br_if n != 0
  0x0b,
  0x0b, // end loop, end if
  ...get(B),
  ...get(B),
  ...get(A),
  0x7d,
  0x42,
  0x07,
  0x83,
  0x7d,
  ...set(A), // a = b - ((b-a) & 7)
  0x02,
  0x40,
  0x03,
  0x40, // block, loop
  ...get(A),
  ...get(B),
  0x59,
  0x0d,
  0x01, // br_if a >= b: out
  ...get(T),
  ...get(A),
  0x7c,
  ...set(T), // t += a
  ...get(A),
  0x42,
  0x01,
  0x7c,
  ...set(A),
  0x0c,
  0x00, // a += 1; continue
  0x0b,
  0x0b, // end loop, end block
  ...get(ACC0),
  ...get(ACC0 + 1),
  ...addI64x2,
  ...get(ACC0 + 2),
  ...addI64x2,
  ...get(ACC0 + 3),
  ...addI64x2,
  ...set(ACC0),
  ...get(T),
  ...get(ACC0),
  0xfd,
  0x1d,
  0x00,
  0x7c,
  ...get(ACC0),
  0xfd,
  0x1d,
  0x01,
  0x7c,
  0x0b,
];

const wasm = new Uint8Array([
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
  ...[0x01, 0x07, 0x01, 0x60, 0x02, 0x7e, 0x7e, 0x01, 0x7e], // type (i64, i64) -> i64
  ...[0x03, 0x02, 0x01, 0x00], // one function of that type
  ...[0x07, 0x07, 0x01, 0x03, 0x73, 0x75, 0x6d, 0x00, 0x00], // export "sum"
  ...section(0x0a, [0x01, ...uleb(code.length), ...code]),
]);

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

// Node has WebAssembly; TypeScript only types it in the DOM lib, so name the two parts we use.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
};

let sumBlockWasm: ((a: bigint, b: bigint) => bigint) | undefined;

/** Adds every integer of a block that `planBlocks` made safe for 64-bit arithmetic. */
function sumBlock({ start, end, offset }: Block): bigint {
  sumBlockWasm ??= new WebAssembly.Instance(new WebAssembly.Module(wasm)).exports['sum'] as (
    a: bigint,
    b: bigint,
  ) => bigint;
  const added = sumBlockWasm(start - offset, end - offset);
  return offset === 0n ? added : added + (end - start) * offset;
}

/**
 * Adds every integer of [start, end), exactly, block by block. `between` runs after a block
 * once `everyMs` have passed since it last ran: the task yields there, so Ctrl-C (inline) and
 * a vanished parent (child processes) are noticed, at no cost to the loop.
 */
export async function sumRangeExact(
  start: bigint,
  end: bigint,
  between?: () => Promise<void>,
  everyMs = 100,
): Promise<bigint> {
  let total = 0n;
  let last = performance.now();
  for (const block of planBlocks(start, end)) {
    total += sumBlock(block);
    if (between && performance.now() - last >= everyMs) {
      await between();
      last = performance.now();
    }
  }
  return total;
}
