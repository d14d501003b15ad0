import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  withDefaults,
  type ArgsOf,
  type Defaulted,
  type OptionTable,
} from '../../src/option-table.ts';
import type { CommonArgs } from '../../src/config.ts';
import { UsageError } from '../../src/errors.ts';
import type { DownloadArgs } from '../../src/commands/download-csv/options.ts';
import type { LogstatsArgs } from '../../src/commands/logstats/options.ts';
import type { SumArgs } from '../../src/commands/sum/options.ts';
import type { Runtime } from '../../src/pool/runtime.ts';
import type { HeaderMode } from '../../src/download/rows.ts';
import type { FormatName } from '../../src/logstats/formats/index.ts';
import type { Grouping } from '../../src/logstats/timestamp.ts';

const table = {
  n: { positional: true, type: 'string', describe: 'a positional' },
  'max-time': { group: 'G:', type: 'number', default: 120, describe: 'a number' },
  by: { group: 'G:', type: 'string', choices: ['day', 'hour'], describe: 'no default' },
  force: { group: 'G:', type: 'boolean', default: false, describe: 'a flag' },
} as const satisfies OptionTable;

describe('withDefaults', () => {
  it('gives each flag that was not given its table default, and keeps the given ones', () => {
    expect(withDefaults(table, {})).toEqual({ maxTime: 120, force: false });
    expect(withDefaults(table, { n: '7', maxTime: 5, by: 'day', force: true })).toEqual({
      n: '7',
      maxTime: 5,
      by: 'day',
      force: true,
    });
    expect(withDefaults(table, { maxTime: undefined }).maxTime).toBe(120);
  });

  it('refuses a flag of one value given twice (yargs hands over both as an array)', () => {
    const twice = { maxTime: [1, 2] } as unknown as ArgsOf<typeof table>;
    expect(() => withDefaults(table, twice)).toThrow(
      new UsageError('--max-time was given more than once'),
    );
    const lists = { header: { group: 'G:', type: 'string', array: true } } as const;
    expect(withDefaults(lists, { header: ['a: 1', 'b: 2'] })).toEqual({ header: ['a: 1', 'b: 2'] });
  });

  it('leaves a flag without a default absent: the config can tell it was not given', () => {
    const args = withDefaults(table, {});
    expect(args.by).toBeUndefined();
    expect(args.n).toBeUndefined();
  });
});

// These are checked by tsc (npm run typecheck), not at run time: a type that drifts from its
// option fails the typecheck.
describe('the argument types derived from a table', () => {
  it('name each flag in camelCase and type it from its option', () => {
    expectTypeOf<ArgsOf<typeof table>>().toEqualTypeOf<{
      readonly n?: string | undefined;
      readonly maxTime?: number | undefined;
      readonly by?: 'day' | 'hour' | undefined;
      readonly force?: boolean | undefined;
    }>();
    expectTypeOf<Defaulted<typeof table>>().toEqualTypeOf<{
      readonly n: string | undefined;
      readonly maxTime: number;
      readonly by: 'day' | 'hour' | undefined;
      readonly force: boolean;
    }>();
    // @ts-expect-error: a flag is handed over under its camelCase key, not its flag name
    const kebab: ArgsOf<typeof table> = { 'max-time': 5 };
    expect(kebab).toBeDefined();
  });

  it("match what crew's configs take", () => {
    expectTypeOf<CommonArgs['workers']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<CommonArgs['runtime']>().toEqualTypeOf<Runtime | undefined>();
    expectTypeOf<CommonArgs['taskTimeout']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<DownloadArgs['csvHeader']>().toEqualTypeOf<HeaderMode | undefined>();
    expectTypeOf<DownloadArgs['header']>().toEqualTypeOf<string[] | undefined>();
    expectTypeOf<DownloadArgs['maxTime']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<LogstatsArgs['paths']>().toEqualTypeOf<string[] | undefined>();
    expectTypeOf<LogstatsArgs['format']>().toEqualTypeOf<FormatName | undefined>();
    expectTypeOf<LogstatsArgs['by']>().toEqualTypeOf<Grouping | undefined>();
    expectTypeOf<SumArgs['repeat']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<SumArgs>().toHaveProperty('start');
  });
});
