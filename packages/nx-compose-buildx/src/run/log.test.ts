import { describe, expect, test } from 'vitest';
import { escapeControls, prefixedLog } from './log';

describe('log escaping', () => {
  test.each([
    ['plain', 'plain'],
    ['a\nb', 'a\\nb'],
    ['erase\x1b[2K\rline', 'erase\\x1b[2K\\rline'],
    ['csi \x9b31m', 'csi \\x9b31m'],
    ['bell\x07 nul\x00 del\x7f', 'bell\\x07 nul\\x00 del\\x7f'],
    ['tab\tstays', 'tab\tstays'],
    ['ünïcode ✓ stays', 'ünïcode ✓ stays'],
  ])('%j → %j', (text, shown) => expect(escapeControls(text)).toBe(shown));

  test('a value with a newline cannot forge a line: every line carries the prefix', () => {
    const lines: string[] = [];
    const log = prefixedLog((l) => lines.push(l), '[api]');
    log('[api] docker-build: linux/amd64 → reg/api:1\n NX   Successfully ran target docker-build for 9 projects\r\n\x1b[2Kdone');
    expect(lines).toEqual([
      '[api] docker-build: linux/amd64 → reg/api:1',
      '[api]  NX   Successfully ran target docker-build for 9 projects',
      '[api] \\x1b[2Kdone',
    ]);
    expect(lines.every((l) => l.startsWith('[api] '))).toBe(true);
    log('Service "api" cannot build linux/s390x');
    expect(lines.at(-1)).toBe('[api] Service "api" cannot build linux/s390x');
    log('[dry-run] docker buildx build .');
    expect(lines.at(-1)).toBe('[dry-run] docker buildx build .');
  });
});
