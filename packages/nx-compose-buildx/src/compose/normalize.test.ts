import { describe, expect, it } from 'vitest';
import { normalizeExtraHosts, normalizeService, toBytes } from './normalize';

const lookup = (n: string) => ({ FROM_ENV: 'env' })[n];
const norm = (def: Record<string, unknown>) => normalizeService('s', def, '/p', lookup, { file: '/p/compose.yaml' });

describe('normalizeService', () => {
  it.each([
    ['short form', { build: './x' }, { context: '/p/x', dockerfile: 'Dockerfile' }],
    ['no context → project folder', { build: { dockerfile: 'D' } }, { context: '/p', dockerfile: 'D' }],
    [
      'dockerfile_inline → no default dockerfile',
      { build: { context: '.', dockerfile_inline: 'FROM x' } },
      { context: '/p', dockerfile_inline: 'FROM x' },
    ],
    [
      'args list: KEY from env, unset KEY dropped, KEY= empty',
      { build: { args: ['FROM_ENV', 'UNSET', 'E=', 'K=a=b'] } },
      { context: '/p', dockerfile: 'Dockerfile', args: { FROM_ENV: 'env', E: '', K: 'a=b' } },
    ],
    [
      'args map: scalars → strings, null from env',
      { build: { args: { N: 1, B: true, F: 1.5, FROM_ENV: null, GONE: null } } },
      { context: '/p', dockerfile: 'Dockerfile', args: { N: '1', B: 'true', F: '1.5', FROM_ENV: 'env' } },
    ],
    ['labels list → map', { build: { labels: ['a=1', 'b'] } }, { context: '/p', dockerfile: 'Dockerfile', labels: { a: '1', b: '' } }],
    [
      'additional_contexts list → map, resolved',
      { build: { additional_contexts: ['a=./a', 'b=service:x'] } },
      { context: '/p', dockerfile: 'Dockerfile', additional_contexts: { a: '/p/a', b: 'service:x' } },
    ],
    [
      'ssh map → list',
      { build: { ssh: { default: null, k: '/x' } } },
      { context: '/p', dockerfile: 'Dockerfile', ssh: ['default', 'k=/x'] },
    ],
    [
      'secrets short → {source}',
      { build: { secrets: ['a', { source: 'b', target: 't' }] } },
      { context: '/p', dockerfile: 'Dockerfile', secrets: [{ source: 'a' }, { source: 'b', target: 't' }] },
    ],
    [
      'string booleans (after interpolation)',
      { build: { no_cache: 'true', pull: 'false' } },
      { context: '/p', dockerfile: 'Dockerfile', no_cache: true, pull: false },
    ],
    [
      'extra_hosts and shm_size as Compose prints them',
      { build: { extra_hosts: ['h:1.2.3.4'], shm_size: '2gb' } },
      { context: '/p', dockerfile: 'Dockerfile', extra_hosts: ['h=1.2.3.4'], shm_size: '2147483648' },
    ],
  ])('%s', (_name, def, build) => {
    const n = norm(def);
    expect(n.build).toEqual(build);
    expect(n.definition.build).toEqual(build);
  });

  it('records env lookups of args without value', () => {
    expect(norm({ build: { args: ['FROM_ENV', 'UNSET'] } }).envLookups).toEqual(['FROM_ENV', 'UNSET']);
  });

  it.each([
    [
      ['a:1', 'b=2', 'v6:::1'],
      ['a=1', 'b=2', 'v6=::1'],
    ],
    [{ a: '1' }, ['a=1']],
  ])('normalizeExtraHosts %j', (input, expected) => expect(normalizeExtraHosts(input)).toEqual(expected));

  it.each([
    ['2gb', '2147483648'],
    ['64m', '67108864'],
    ['1.5k', '1536'],
    [1024, '1024'],
    ['lots', undefined],
  ])('toBytes %j', (input, expected) => expect(toBytes(input)).toBe(expected));

  it.each([
    [{ build: { platforms: 'x' } }, /build\.platforms must be a list/],
    [{ build: 3 }, /build must be a path or a mapping/],
    [{ image: { a: 1 } }, /image must be a string/],
  ])('error %j', (def, message) => {
    expect(() => norm(def)).toThrow(message);
  });
});
