import { describe, expect, it } from 'vitest';
import {
  TimeFormat,
  type TimeParts,
} from '../../../../../src/logstats/formats/custom/time-format.ts';

const read = (format: string, value: string): TimeParts | false => {
  const compiled = TimeFormat.compile(format);
  if (typeof compiled === 'string') throw new Error(compiled);
  const parts: TimeParts = {};
  return compiled.read(value, parts) && parts;
};

describe('strptime time formats', () => {
  it.each([
    ['%d/%b/%Y', '10/Oct/2000', { day: 10, month: 10, year: 2000 }],
    ['%d/%b/%Y', '10/oct/2000', { day: 10, month: 10, year: 2000 }],
    ['%H:%M:%S', '13:55:36', { hour: 13, minute: 55, second: 36 }],
    ['%T', '13:55:36', { hour: 13, minute: 55, second: 36 }],
    ['%F', '2024-01-05', { year: 2024, month: 1, day: 5 }],
    ['%D', '01/05/24', { month: 1, day: 5, year: 2024 }],
    ['%y', '99', { year: 1999 }],
    [
      '%d/%b/%Y:%H:%M:%S %z',
      '10/Oct/2000:13:55:36 -0700',
      { day: 10, month: 10, year: 2000, hour: 13, minute: 55, second: 36, offsetMinutes: -420 },
    ],
    [
      '%FT%T%z',
      '2024-01-05T10:00:00+05:30',
      { year: 2024, month: 1, day: 5, hour: 10, minute: 0, second: 0, offsetMinutes: 330 },
    ],
    [
      '%FT%T%z',
      '2024-01-05T10:00:00Z',
      { year: 2024, month: 1, day: 5, hour: 10, minute: 0, second: 0, offsetMinutes: 0 },
    ],
    ['%T.%f', '10:00:00.123456', { hour: 10, minute: 0, second: 0 }],
    ['%s', '1700000000.123', { epoch: 1_700_000_000 }],
    ['%H:%M 100%%', '10:05 100%', { hour: 10, minute: 5 }],
    ['%d %b', '5   Jan', { day: 5, month: 1 }], // a space matches any run of spaces
  ])('reads %j from %j', (format, value, parts) => {
    expect(read(format, value)).toEqual(parts);
  });

  it.each([
    ['%d/%b/%Y', '10/Okt/2000'],
    ['%d/%b/%Y', '10/Oct/2000 '],
    ['%H:%M:%S', '13:55'],
    ['%z', '+7'],
    ['%z', '+07:75'],
    ['%Y', ''],
    ['%Y', 'x'.repeat(100_000)],
  ])('does not read %j from %j', (format, value) => {
    expect(read(format, value)).toBe(false);
  });

  it.each([
    ['%Q', '"%Q": %Q is not one crew reads'],
    ['%H:%', '"%H:%": it ends in a lone %'],
    ['at noon', '"at noon" reads no part of a time'],
  ])('refuses %j, saying what it takes', (format, why) => {
    const compiled = TimeFormat.compile(format);
    expect(typeof compiled === 'string' && compiled.startsWith(why)).toBe(true);
    expect(compiled).toContain('it takes strptime conversions');
  });
});
