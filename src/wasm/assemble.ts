/**
 * A small assembler for WebAssembly's flat text form: enough of it to write a hot loop as
 * readable instructions (`local.get $p  i32.const 16  i32.add`) instead of opcode bytes.
 * Only the instructions listed in `opcodes` exist; blocks are void, labels and locals are
 * named. Any mistake throws when the module is built, and WebAssembly validates the rest.
 */

export type ValueType = 'i32' | 'i64' | 'v128';

export interface WasmFunction {
  readonly name: string;
  readonly params: readonly (readonly [string, ValueType])[];
  readonly result?: ValueType;
  readonly locals?: readonly (readonly [string, ValueType])[];
  /** Flat instructions, whitespace-separated; `;;` starts a comment. */
  readonly body: string;
}

export interface WasmModuleSpec {
  /** 64 KiB pages of memory, exported as "memory". */
  readonly memoryPages: number;
  readonly functions: readonly WasmFunction[];
}

const types: Record<ValueType, number> = { i32: 0x7f, i64: 0x7e, v128: 0x7b };

type Immediate = 'none' | 'label' | 'local' | 'i32' | 'memarg' | 'block';
const op = (bytes: number[], immediate: Immediate = 'none', align = 0) => ({
  bytes,
  immediate,
  align,
});
const simd = (code: number, immediate: Immediate = 'none', align = 0) =>
  op([0xfd, ...uleb(code)], immediate, align);

const opcodes: Record<string, ReturnType<typeof op>> = {
  block: op([0x02], 'block'),
  loop: op([0x03], 'block'),
  if: op([0x04], 'block'),
  else: op([0x05]),
  end: op([0x0b]),
  br: op([0x0c], 'label'),
  br_if: op([0x0d], 'label'),
  return: op([0x0f]),
  drop: op([0x1a]),
  select: op([0x1b]),
  'local.get': op([0x20], 'local'),
  'local.set': op([0x21], 'local'),
  'local.tee': op([0x22], 'local'),
  'i32.load': op([0x28], 'memarg', 2),
  'i32.load8_u': op([0x2d], 'memarg', 0),
  'i32.load16_u': op([0x2f], 'memarg', 1),
  'i32.store': op([0x36], 'memarg', 2),
  'i32.store8': op([0x3a], 'memarg', 0),
  'i32.const': op([0x41], 'i32'),
  'i32.eqz': op([0x45]),
  'i32.eq': op([0x46]),
  'i32.ne': op([0x47]),
  'i32.lt_s': op([0x48]),
  'i32.lt_u': op([0x49]),
  'i32.gt_s': op([0x4a]),
  'i32.gt_u': op([0x4b]),
  'i32.le_u': op([0x4d]),
  'i32.ge_s': op([0x4e]),
  'i32.ge_u': op([0x4f]),
  'i32.clz': op([0x67]),
  'i32.ctz': op([0x68]),
  'i32.add': op([0x6a]),
  'i32.sub': op([0x6b]),
  'i32.mul': op([0x6c]),
  'i32.and': op([0x71]),
  'i32.or': op([0x72]),
  'i32.xor': op([0x73]),
  'i32.shl': op([0x74]),
  'i32.shr_u': op([0x76]),
  'v128.load': simd(0x00, 'memarg', 4),
  'v128.store': simd(0x0b, 'memarg', 4),
  'i8x16.splat': simd(0x0f),
  'i8x16.eq': simd(0x23),
  'v128.and': simd(0x4e),
  'v128.or': simd(0x50),
  'v128.any_true': simd(0x53),
  'i8x16.bitmask': simd(0x64),
};

/** Builds a module whose functions are all exported under their names, with its memory. */
export function assemble(spec: WasmModuleSpec): Uint8Array {
  const signatures: number[][] = [];
  const typeOf: number[] = [];
  for (const fn of spec.functions) {
    const signature = [
      0x60,
      ...vector(fn.params.map(([, t]) => [types[t]])),
      ...vector(fn.result ? [[types[fn.result]]] : []),
    ];
    let index = signatures.findIndex((s) => s.join() === signature.join());
    if (index < 0) index = signatures.push(signature) - 1;
    typeOf.push(index);
  }
  const exports = [
    [...name('memory'), 0x02, 0x00],
    ...spec.functions.map((fn, i) => [...name(fn.name), 0x00, ...uleb(i)]),
  ];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector(signatures)),
    ...section(3, vector(typeOf.map((t) => uleb(t)))),
    ...section(5, vector([[0x00, ...uleb(spec.memoryPages)]])),
    ...section(7, vector(exports)),
    ...section(10, vector(spec.functions.map((fn) => sized(functionBody(fn))))),
  ]);
}

function functionBody(fn: WasmFunction): number[] {
  const locals = new Map<string, number>();
  for (const [local] of [...fn.params, ...(fn.locals ?? [])]) {
    if (locals.has(local)) throw new Error(`${fn.name}: local ${local} declared twice`);
    locals.set(local, locals.size);
  }
  const declared = (fn.locals ?? []).map(([, t]) => [1, types[t]]);
  const code: number[] = [...vector(declared)];
  const labels: (string | undefined)[] = [];
  const tokens = fn.body
    .replace(/;;[^\n]*/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const entry = opcodes[token];
    if (!entry) throw new Error(`${fn.name}: unknown instruction "${token}"`);
    code.push(...entry.bytes);
    const next = tokens[i + 1];
    switch (entry.immediate) {
      case 'block':
        // An optional $label names the block for br/br_if; blocks are void (0x40).
        labels.push(next?.startsWith('$') ? next : undefined);
        if (next?.startsWith('$')) i++;
        code.push(0x40);
        break;
      case 'label': {
        const depth = labels.length - 1 - labels.lastIndexOf(next);
        if (next === undefined || depth >= labels.length) {
          throw new Error(`${fn.name}: no enclosing block ${next}`);
        }
        code.push(...uleb(depth));
        i++;
        break;
      }
      case 'local': {
        const index = next === undefined ? undefined : locals.get(next);
        if (index === undefined) throw new Error(`${fn.name}: no local ${next}`);
        code.push(...uleb(index));
        i++;
        break;
      }
      case 'i32':
        if (next === undefined || !/^-?(0x[0-9a-f]+|\d+)$/i.test(next)) {
          throw new Error(`${fn.name}: ${token} needs a number, got ${next}`);
        }
        code.push(...sleb(Number(next) | 0));
        i++;
        break;
      case 'memarg': {
        const offset = next?.startsWith('offset=') ? Number(next.slice(7)) : 0;
        if (next?.startsWith('offset=')) i++;
        code.push(...uleb(entry.align), ...uleb(offset));
        break;
      }
      case 'none':
        break;
    }
    if (token === 'end') labels.pop();
  }
  if (labels.length > 0) throw new Error(`${fn.name}: ${labels.length} block(s) not ended`);
  return [...code, 0x0b];
}

/** An unsigned LEB128 number, as WebAssembly writes sizes and indices. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    const byte = n & 0x7f;
    n >>>= 7;
    out.push(n === 0 ? byte : byte | 0x80);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function name(text: string): number[] {
  return sized([...Buffer.from(text, 'utf8')]);
}

function sized(bytes: number[]): number[] {
  return [...uleb(bytes.length), ...bytes];
}

function vector(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...sized(body)];
}
