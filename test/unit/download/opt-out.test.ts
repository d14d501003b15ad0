import { describe, expect, it } from 'vitest';
import {
  DEFAULT_OPT_OUT_DIRECTIVES,
  optOutDirective,
  parseDirectives,
  robotNames,
} from '../../../src/download/opt-out.ts';

const rule = { directives: DEFAULT_OPT_OUT_DIRECTIVES, agents: ['crew'] };

describe('optOutDirective', () => {
  it.each([
    [['noai'], 'noai'],
    [['NoImageAI'], 'noimageai'],
    [['noindex, nofollow'], 'noindex'],
    [['all', 'noml'], 'noml'],
    [['crew: noimageindex'], 'noimageindex'],
    [['*: noai'], 'noai'],
    [['otherbot: noai, crew: noindex'], 'noindex'],
    [['max-image-preview: large, noai'], 'noai'],
  ])('%j opts out (%s)', (values, directive) => {
    expect(optOutDirective(values, rule)).toBe(directive);
  });

  it.each([
    [[]],
    [['all']],
    [['nofollow, noarchive']],
    [['otherbot: noai']],
    [['googlebot: noindex, nofollow']],
    [['max-image-preview: none']],
    [['unavailable_after: 25 Jun 2010 15:00:00 PST']],
    [['noaiX', 'xnoai']],
  ])('%j does not', (values) => {
    expect(optOutDirective(values, rule)).toBeUndefined();
  });

  it('answers to the names and directives it is given', () => {
    expect(
      optOutDirective(['mybot: noai'], { directives: ['noai'], agents: ['crew', 'mybot'] }),
    ).toBe('noai');
    expect(
      optOutDirective(['noindex'], { directives: ['noai'], agents: ['crew'] }),
    ).toBeUndefined();
  });
});

describe('robotNames and parseDirectives', () => {
  it('is crew, and the product of a User-Agent that is not a browser', () => {
    expect(robotNames(undefined)).toEqual(['crew']);
    expect(robotNames('Mozilla/5.0 (Windows NT 10.0)')).toEqual(['crew']);
    expect(robotNames('MyBot/2.1 (+https://example.test/bot)')).toEqual(['crew', 'mybot']);
  });

  it('reads a comma-separated list, and refuses what is not one', () => {
    expect(parseDirectives(' noai, NoML ,')).toEqual(['noai', 'noml']);
    expect(parseDirectives('')).toBeUndefined();
    expect(parseDirectives('no ai')).toBeUndefined();
  });
});
