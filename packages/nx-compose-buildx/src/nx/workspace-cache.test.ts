import { describe, expect, it } from 'vitest';
import { serviceCache, validateWorkspaceCache, type WorkspaceCacheOption } from './workspace-cache';

const none = { cacheFrom: [], cacheTo: [] };

describe('serviceCache', () => {
  it.each<{
    name: string;
    option?: WorkspaceCacheOption;
    own?: { cacheFrom: string[]; cacheTo: string[] };
    expected: { cacheFrom: string[]; cacheTo: string[] };
  }>([
    { name: 'no option, no compose cache', expected: none },
    {
      name: 'registry: one ref per service, read and written',
      option: { type: 'registry', ref: 'reg:5000/cache/{service}:buildcache', mode: 'max' },
      expected: {
        cacheFrom: ['type=registry,ref=reg:5000/cache/api:buildcache'],
        cacheTo: ['type=registry,ref=reg:5000/cache/api:buildcache,mode=max'],
      },
    },
    {
      name: 'registry read-only: no cache-to',
      option: { type: 'registry', ref: 'reg/{service}:c', readOnly: true },
      expected: { cacheFrom: ['type=registry,ref=reg/api:c'], cacheTo: [] },
    },
    {
      name: 'gha: a scope per service',
      option: { type: 'gha' },
      expected: { cacheFrom: ['type=gha,scope=api'], cacheTo: ['type=gha,scope=api,mode=max'] },
    },
    {
      name: 'local: a folder per service',
      option: { type: 'local', mode: 'min' },
      expected: { cacheFrom: ['type=local,src=.buildx-cache/api'], cacheTo: ['type=local,dest=.buildx-cache/api,mode=min'] },
    },
    {
      name: 'inline: read from the image tag',
      option: { type: 'inline' },
      expected: { cacheFrom: ['type=registry,ref=reg/api:1'], cacheTo: ['type=inline'] },
    },
    {
      name: "the service's own cache_from and cache_to win",
      option: { type: 'registry', ref: 'reg/{service}:c' },
      own: { cacheFrom: ['type=local,src=/x'], cacheTo: ['type=local,dest=/x'] },
      expected: { cacheFrom: ['type=local,src=/x'], cacheTo: ['type=local,dest=/x'] },
    },
    {
      name: "read-only drops the service's own cache_to too, keeps its cache_from",
      option: { type: 'registry', ref: 'reg/{service}:c', readOnly: true },
      own: { cacheFrom: ['type=local,src=/x'], cacheTo: ['type=local,dest=/x', 'type=inline'] },
      expected: { cacheFrom: ['type=local,src=/x'], cacheTo: [] },
    },
    {
      name: 'only cache_from set: cache_to still comes from the workspace',
      option: { type: 'registry', ref: 'reg/{service}:c' },
      own: { cacheFrom: ['type=registry,ref=other'], cacheTo: [] },
      expected: { cacheFrom: ['type=registry,ref=other'], cacheTo: ['type=registry,ref=reg/api:c,mode=max'] },
    },
  ])('$name', ({ option, own, expected }) => {
    expect(serviceCache(option, 'api', 'reg/api:1', own ?? none)).toEqual(expected);
  });

  it.each([
    [undefined, undefined],
    [{ type: 'registry', ref: 'reg/cache:shared' }, /\{service\}/],
    [{ type: 's3' }, /registry, gha, local or inline/],
    [{ type: 'gha' }, undefined],
  ])('validates %j', (option, problem) => {
    const result = validateWorkspaceCache(option);
    if (problem) expect(result).toMatch(problem as RegExp);
    else expect(result).toBeUndefined();
  });
});
