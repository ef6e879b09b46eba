import { describe, expect, it } from 'vitest';
import { interpolateModel } from './interpolate-model';
import { ComposeError } from './types';
import { parseYamlSource, Tagged } from './yaml-source';

const env: Record<string, string> = { A: 'a', B: 'b' };
const run = (text: string) => interpolateModel(parseYamlSource(text, '/p/c.yaml'), (n) => env[n]);

describe('interpolateModel', () => {
  it.each([
    ['values only, never keys', 'services:\n  $A:\n    image: $A\n', { services: { $A: { image: 'a' } } }],
    [
      'sequences and nested maps',
      'services:\n  s:\n    build: {args: ["X=${B}"], tags: [$A]}\n',
      { services: { s: { build: { args: ['X=b'], tags: ['a'] } } } },
    ],
    ['non-strings untouched', 'x-n: 1\nx-b: true\nx-null: null\n', { 'x-n': 1, 'x-b': true, 'x-null': null }],
    ['inside tags', 'services:\n  s:\n    image: !override ${A}\n', { services: { s: { image: new Tagged('override', 'a') } } }],
  ])('%s', (_name, text, root) => {
    expect(run(text).root).toEqual(root);
  });

  it('groups variable names by service', () => {
    const r = run('name: ${B}\nservices:\n  one:\n    image: ${A}\n    build: ${NOPE:-x}\n  two:\n    image: $B\n');
    expect(r.serviceVariables).toEqual(
      new Map([
        ['one', new Set(['A', 'NOPE'])],
        ['two', new Set(['B'])],
      ]),
    );
    expect(r.otherVariables).toEqual(new Set(['B']));
  });

  it.each([
    [
      'services:\n  s:\n    build:\n      args:\n        K: ${X:?set X}\n',
      5,
      's',
      /services\.s\.build\.args\.K: required variable X is missing a value: set X/,
    ],
    ['secrets:\n  k:\n    file: ${}\n', 3, undefined, /invalid interpolation format/],
  ])('error %#', (text, line, service, message) => {
    let error: unknown;
    try {
      run(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ComposeError);
    expect(error).toMatchObject({ file: '/p/c.yaml', line, service });
    expect((error as Error).message).toMatch(message);
  });
});
