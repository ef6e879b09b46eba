import { describe, expect, it } from 'vitest';
import { ComposeError } from './types';
import { lineOf, parseYamlSource, Tagged } from './yaml-source';

describe('parseYamlSource', () => {
  it.each([
    ['plain mapping', 'a: 1\nb: [x, y]\n', { a: 1, b: ['x', 'y'] }],
    ['empty file', '', {}],
    ['yes stays a string (YAML 1.2)', 'a: yes\n', { a: 'yes' }],
    ['anchors and aliases', 'x: &a {k: 1}\ny: *a\n', { x: { k: 1 }, y: { k: 1 } }],
    ['merge key: explicit wins', 'x: &a {k: 1, j: 2}\ny:\n  <<: *a\n  k: 3\n', { x: { k: 1, j: 2 }, y: { k: 3, j: 2 } }],
    [
      'merge key list: earlier wins',
      'a: &a {k: a}\nb: &b {k: b, m: b}\nc:\n  <<: [*a, *b]\n',
      { a: { k: 'a' }, b: { k: 'b', m: 'b' }, c: { k: 'a', m: 'b' } },
    ],
    ['numeric keys become strings', '1: one\n', { '1': 'one' }],
    ['__proto__ key is data', '__proto__: {polluted: true}\n', JSON.parse('{"__proto__": {"polluted": true}}')],
  ])('%s', (_name, text, expected) => {
    expect(parseYamlSource(text, '/p/compose.yaml').root).toEqual(expected);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['!reset on a sequence', 'a: !reset []\n', new Tagged('reset', [])],
    ['!reset on an empty value', 'a: !reset\n', new Tagged('reset', '')],
    ['!override on a mapping', 'a: !override {k: 1}\n', new Tagged('override', { k: 1 })],
    ['!override on a scalar', 'a: !override v\n', new Tagged('override', 'v')],
  ])('%s', (_name, text, tagged) => {
    expect(parseYamlSource(text, '/p/c.yaml').root.a).toEqual(tagged);
  });

  it('records key and item lines', () => {
    const src = parseYamlSource('services:\n  web:\n    build:\n      platforms:\n        - a\n        - b\n', '/p/c.yaml');
    expect(lineOf(src, ['services', 'web'])).toBe(2);
    expect(lineOf(src, ['services', 'web', 'build', 'platforms', 1])).toBe(6);
    expect(lineOf(src, ['services', 'web', 'build', 'nope'])).toBe(3);
  });

  it.each([
    ['bad indentation', 'services:\n  a:\n    build: .\n   image: x\n', 4],
    ['unclosed flow', 'a: [1, 2\nb: 3\n', 2],
    ['duplicate key', 'a: 1\na: 2\n', 2],
    ['top level is a list', '- a\n- b\n', 1],
  ])('%s → ComposeError with file and line', (_name, text, line) => {
    let error: unknown;
    try {
      parseYamlSource(text, '/p/compose.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ComposeError);
    expect(error).toMatchObject({ file: '/p/compose.yaml', line });
  });
});
