import { describe, expect, it } from 'vitest';
import { assemble, type WasmFunction } from '../../../src/wasm/assemble.ts';

declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
};

function instantiate(functions: WasmFunction[]): Record<string, unknown> {
  return new WebAssembly.Instance(new WebAssembly.Module(assemble({ memoryPages: 1, functions })))
    .exports;
}

describe('assemble', () => {
  it('builds loops with named labels and locals, and exports memory', () => {
    // Sums the bytes of memory[from, to).
    const exports = instantiate([
      {
        name: 'sum',
        params: [
          ['$from', 'i32'],
          ['$to', 'i32'],
        ],
        result: 'i32',
        locals: [['$total', 'i32']],
        body: `
          block $done
            loop $next
              local.get $from local.get $to i32.ge_u br_if $done
              local.get $total local.get $from i32.load8_u i32.add local.set $total
              local.get $from i32.const 1 i32.add local.set $from
              br $next ;; back to the top
            end
          end
          local.get $total`,
      },
    ]);
    const memory = new Uint8Array((exports['memory'] as { buffer: ArrayBuffer }).buffer);
    memory.set([1, 2, 3, 250], 100);
    expect((exports['sum'] as (a: number, b: number) => number)(100, 104)).toBe(256);
  });

  it('encodes negative and large constants, offsets and SIMD', () => {
    const exports = instantiate([
      {
        name: 'newlines',
        params: [['$at', 'i32']],
        result: 'i32',
        body: `
          local.get $at v128.load offset=16
          i32.const 10 i8x16.splat i8x16.eq i8x16.bitmask
          i32.const -2 i32.and
          i32.const 0x10000 i32.add`,
      },
    ]);
    const memory = new Uint8Array((exports['memory'] as { buffer: ArrayBuffer }).buffer);
    memory[16 + 17] = 10;
    memory[16 + 31] = 10;
    // Newlines at lanes 1 and 15 of the load at 16 + 16; lane 0 is masked off by -2.
    const newlines = exports['newlines'] as (at: number) => number;
    expect(newlines(16)).toBe(0x18002);
    memory[16 + 16] = 10;
    expect(newlines(16)).toBe(0x18002);
    memory[16 + 18] = 10;
    expect(newlines(16)).toBe(0x18006);
  });

  it.each([
    ['an unknown instruction', 'i32.frobnicate', /unknown instruction "i32.frobnicate"/],
    ['a missing label', 'br $nowhere', /no enclosing block \$nowhere/],
    ['an unknown local', 'local.get $nope drop', /no local \$nope/],
    ['a block left open', 'block $a', /not ended/],
    ['a constant that is not a number', 'i32.const ten drop', /needs a number/],
  ])('refuses %s', (_what, body, message) => {
    expect(() =>
      assemble({ memoryPages: 1, functions: [{ name: 'f', params: [], body }] }),
    ).toThrow(message);
  });
});
