/** Bounded concurrency: a batch's build slots, a layout push's uploads. */
/** A pool of `n` slots: `hold(work)` runs work once a slot is free, in the order asked. */
export function slotPool(n: number): <T>(work: () => Promise<T>) => Promise<T> {
  let free = n;
  const waiting: Array<() => void> = [];
  return async (work) => {
    if (free > 0) free--;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
}
