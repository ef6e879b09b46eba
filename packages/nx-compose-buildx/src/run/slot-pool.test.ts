import { describe, expect, test } from 'vitest';
import { slotPool } from './slot-pool';

describe('slotPool', () => {
  test('runs at most n at once, in the order asked', async () => {
    const hold = slotPool(2);
    const started: number[] = [];
    let inFlight = 0;
    let most = 0;
    const release: Array<() => void> = [];
    const work = (i: number) =>
      hold(async () => {
        started.push(i);
        most = Math.max(most, ++inFlight);
        await new Promise<void>((r) => release.push(r));
        inFlight--;
        return i;
      });
    const all = Promise.all([0, 1, 2, 3, 4].map(work));
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 1));
      release.shift()?.();
    }
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 1));
      release.shift()?.();
    }
    expect(await all).toEqual([0, 1, 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
  });

  test('a failed work frees its slot', async () => {
    const hold = slotPool(1);
    await expect(hold(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await hold(async () => 'next')).toBe('next');
  });
});
