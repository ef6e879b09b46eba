import { describe, expect, test } from 'vitest';
import { externalDigestsExcept } from './registry';

describe('externalDigestsExcept: a batch asks once for an image it builds on and never pushes', () => {
  const asked: string[] = [];
  const lookup = (ref: string, answer: string | undefined) => () => (asked.push(ref), Promise.resolve(answer));

  test.each<[string, string, number]>([
    ['an external base: asked once for every task', 'node:20', 1],
    ['an image in a repository the batch pushes to: asked every time', '127.0.0.1:5000/shop/base:latest', 3],
    ['a tag of that repository the batch does not name: still asked every time', '127.0.0.1:5000/shop/base:other', 3],
  ])('%s', async (_, ref, times) => {
    asked.length = 0;
    const digests = externalDigestsExcept(new Set(['127.0.0.1:5000/shop/base']));
    const answers = await Promise.all([1, 2, 3].map(() => digests(ref, lookup(ref, 'sha256:1'))));
    expect(answers).toEqual(['sha256:1', 'sha256:1', 'sha256:1']);
    expect(asked).toHaveLength(times);
  });

  test('no answer is not kept: the next task asks again', async () => {
    asked.length = 0;
    const digests = externalDigestsExcept(new Set());
    expect(await digests('node:20', lookup('node:20', undefined))).toBeUndefined();
    expect(await digests('node:20', lookup('node:20', 'sha256:2'))).toBe('sha256:2');
    expect(await digests('node:20', lookup('node:20', 'sha256:3'))).toBe('sha256:2');
    expect(asked).toHaveLength(2);
  });
});
