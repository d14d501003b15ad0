import { describe, expect, it } from 'vitest';
import { toLogstatsConfig } from '../../../src/commands/logstats/options.ts';

describe('toLogstatsConfig', () => {
  it('starts from the defaults written in its options', () => {
    expect(toLogstatsConfig({ paths: ['logs'] })).toMatchObject({
      paths: ['logs'],
      recursive: false,
      top: 0,
      splitBytes: undefined,
      runtime: 'process',
      rules: { by: undefined, utc: false, format: 'auto' },
    });
  });

  it.each([
    [{ utc: true }, '--utc needs --by day or --by hour'],
    [{ timeField: 'ts' }, '--time-field needs --by day or --by hour'],
    [{ top: -1 }, '--top must be a whole number from 0 to 10000; got "-1"'],
    [{ splitSize: '1K' }, '--split-size must be at least 64K; got "1K"'],
    [{ ipField: 'a..b' }, '--ip-field must be a field name or a dotted path'],
  ])('refuses %j', (args, message) => {
    expect(() => toLogstatsConfig({ paths: ['logs'], ...args })).toThrow(message);
  });

  it('takes --utc and --time-field with --by', () => {
    const config = toLogstatsConfig({ paths: ['logs'], by: 'hour', utc: true, timeField: 'ts' });
    expect(config.rules).toMatchObject({ by: 'hour', utc: true, timeField: 'ts' });
  });
});
