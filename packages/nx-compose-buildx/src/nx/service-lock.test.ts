import { describe, expect, it } from 'vitest';
import { isServiceLockCurrent, parseServiceLock, renderServiceLock, serviceLockKey, stableHash } from './service-lock';

describe('service lock', () => {
  it.each([
    ['api', 'api'],
    ['my.svc', 'my%2Esvc'],
    ['100%', '100%25'],
  ])('key for %s is %s', (project, key) => expect(serviceLockKey(project)).toBe(key));

  it('hashes ignore key order and change with values', () => {
    expect(stableHash({ a: 1, b: { c: [1, 2] } })).toBe(stableHash({ b: { c: [1, 2] }, a: 1 }));
    expect(stableHash({ a: 1 })).not.toBe(stableHash({ a: 2 }));
  });

  it('renders sorted, parses back, and tells current from stale', () => {
    const text = renderServiceLock({ web: 'h2', 'a.b': 'h1' });
    expect(Object.keys(JSON.parse(text).services)).toEqual(['a%2Eb', 'web']);
    const lock = parseServiceLock(text);
    expect(isServiceLockCurrent(lock, 'a.b', 'h1')).toBe(true);
    expect(isServiceLockCurrent(lock, 'web', 'other')).toBe(false);
    expect(isServiceLockCurrent(parseServiceLock('{ not json'), 'web', 'h2')).toBe(false);
    expect(isServiceLockCurrent(undefined, 'web', 'h2')).toBe(false);
  });
});
