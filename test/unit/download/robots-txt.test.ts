import { describe, expect, it } from 'vitest';
import { normalise, robotRules } from '../../../src/download/robots-txt.ts';

const FILE = [
  '# a comment',
  'User-agent: *',
  'Disallow: /private/',
  '',
  'User-agent: otherbot',
  'User-agent: CREW/1.0',
  'Disallow: /img/secret # why not',
  'Allow: /img/secret-ok',
  'Disallow: /*.gif$',
  'Disallow:',
  'Sitemap: http://x.test/sitemap.xml',
  '',
  'User-agent: somebot',
  'Disallow: /',
].join('\r\n');

describe('robotRules (RFC 9309)', () => {
  const crew = robotRules(FILE, ['crew']);
  it.each([
    ['/img/a', true],
    ['/img/secret', false],
    ['/img/secret/1.png', false],
    ['/img/secret-ok/1.png', true], // the longer rule wins
    ['/private/x.png', true], // crew has its own group: `*` does not apply
    ['/a/b.gif', false],
    ['/a/b.gif?x=1', true], // `$` anchors the end
    ['/', true],
  ])('crew: %s -> %s', (path, allowed) => {
    expect(crew.allows(path)).toBe(allowed);
  });

  it('falls back to the * group, and allows all without one', () => {
    const other = robotRules(FILE, ['nobody']);
    expect(other.allows('/private/x')).toBe(false);
    expect(other.allows('/img/secret')).toBe(true);
    expect(robotRules('User-agent: somebot\nDisallow: /', ['crew']).allows('/x')).toBe(true);
    expect(robotRules('', ['crew']).allows('/x')).toBe(true);
    expect(robotRules('<html>not robots</html>', ['crew']).allows('/x')).toBe(true);
  });

  it('gives an allow the tie, and compares escapes in one form', () => {
    const rules = robotRules('User-agent: *\nDisallow: /a\nAllow: /a\nDisallow: /caf%c3%a9', [
      'crew',
    ]);
    expect(rules.allows('/a/x')).toBe(true);
    expect(rules.allows(normalise('/café'))).toBe(false);
    expect(rules.allows('/caf%C3%A9/menu')).toBe(false);
  });

  it('treats a pattern’s regex characters as text', () => {
    const rules = robotRules('User-agent: *\nDisallow: /a.b(c)+[d]', ['crew']);
    expect(rules.allows('/a.b(c)+[d]/x')).toBe(false);
    expect(rules.allows('/axb(c)+[d]')).toBe(true);
  });
});
