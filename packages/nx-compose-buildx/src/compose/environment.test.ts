import { describe, expect, it } from 'vitest';
import { lookupIn } from './environment';

describe('lookupIn (process env first, then .env)', () => {
  const lookup = lookupIn({
    process: { P: 'process', BOTH: 'process', EMPTY: '', UNDEF: undefined },
    dotenv: { D: 'dotenv', BOTH: 'dotenv', UNDEF: 'dotenv' },
  });
  it.each([
    ['P', 'process'],
    ['D', 'dotenv'],
    ['BOTH', 'process'],
    ['EMPTY', ''],
    ['UNDEF', 'dotenv'],
    ['NONE', undefined],
    ['toString', undefined],
  ])('%s → %s', (name, expected) => expect(lookup(name)).toBe(expected));
});
