import { describe, expect, it } from 'vitest';
import { mergeModels, stripTags } from './merge';
import { Tagged } from './yaml-source';

const svc = (build: unknown, extra: Record<string, unknown> = {}) => ({ services: { s: { build, ...extra } } });
const merged = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  stripTags(mergeModels(a, b)) as { services: { s: Record<string, unknown> } };

describe('mergeModels', () => {
  it.each([
    ['scalars are replaced', svc({ context: 'a', target: 't1' }), svc({ target: 't2' }), { context: 'a', target: 't2' }],
    ['short form == {context}', svc('./a'), svc({ dockerfile: 'D' }), { context: './a', dockerfile: 'D' }],
    ['short form over long form', svc({ context: 'a', dockerfile: 'D' }), svc('./b'), { context: './b', dockerfile: 'D' }],
    [
      'platforms append (no de-dup, as Compose 2.26)',
      svc({ platforms: ['a', 'b'] }),
      svc({ platforms: ['b', 'c'] }),
      { platforms: ['a', 'b', 'b', 'c'] },
    ],
    [
      'cache_from / cache_to append',
      svc({ cache_from: ['x'], cache_to: ['y'] }),
      svc({ cache_from: ['x'], cache_to: ['z'] }),
      { cache_from: ['x', 'x'], cache_to: ['y', 'z'] },
    ],
    ['tags append and de-duplicate', svc({ tags: ['t1', 't2'] }), svc({ tags: ['t2', 't3'] }), { tags: ['t1', 't2', 't3'] }],
    ['secrets append', svc({ secrets: ['a'] }), svc({ secrets: ['a', 'b'] }), { secrets: ['a', 'a', 'b'] }],
    [
      'ssh (canonical: a mapping) merges by id',
      svc({ ssh: { default: null, k: '/x' } }),
      svc({ ssh: { k: '/y' } }),
      { ssh: { default: null, k: '/y' } },
    ],
    ['args map + list, last wins', svc({ args: { A: '1', B: '2' } }), svc({ args: ['B=3', 'C=4'] }), { args: { A: '1', B: '3', C: '4' } }],
    ['args list + map', svc({ args: ['A=1'] }), svc({ args: { A: '2' } }), { args: { A: '2' } }],
    ['args KEY alone replaces KEY=V', svc({ args: { A: '1' } }), svc({ args: ['A'] }), { args: { A: null } }],
    [
      'labels / additional_contexts merge by key',
      svc({ labels: ['a=1'], additional_contexts: { x: './x' } }),
      svc({ labels: { a: '2' }, additional_contexts: ['y=./y'] }),
      { labels: { a: '2' }, additional_contexts: { x: './x', y: './y' } },
    ],
    ['x- keys are replaced, not merged', svc({ 'x-ext': { a: 1 } }), svc({ 'x-ext': { b: 2 } }), { 'x-ext': { b: 2 } }],
    ['!reset removes', svc({ args: { A: '1' }, tags: ['t'] }), svc({ args: new Tagged('reset', {}) }), { tags: ['t'] }],
    [
      '!override replaces',
      svc({ platforms: ['a'], args: { A: '1' } }),
      svc({ platforms: new Tagged('override', ['b']), args: new Tagged('override', { B: '2' }) }),
      { platforms: ['b'], args: { B: '2' } },
    ],
    [
      '!override on build replaces the whole build',
      svc({ context: 'a', args: { A: '1' } }),
      svc(new Tagged('override', { context: 'b' })),
      { context: 'b' },
    ],
  ])('%s', (_name, a, b, build) => {
    expect(merged(a, b).services.s.build).toEqual(build);
  });

  it.each([
    ['image replaced', { image: 'a' }, { image: 'b' }, { image: 'b' }],
    ['profiles append and de-duplicate', { profiles: ['a'] }, { profiles: ['a', 'b'] }, { profiles: ['a', 'b'] }],
    ['command overridden', { command: ['a', 'b'] }, { command: ['c'] }, { command: ['c'] }],
    ['environment merged by key', { environment: ['A=1', 'B=2'] }, { environment: { B: '3' } }, { environment: { A: '1', B: '3' } }],
    ['!reset image', { image: 'a' }, { image: new Tagged('reset', null) }, {}],
    ['extends replaced', { extends: { service: 'a' } }, { extends: { service: 'b' } }, { extends: { service: 'b' } }],
    // A canonical base meets an override as written (compose-go merges each file before making it canonical).
    [
      'networks: long base, short override',
      { networks: { front: { aliases: ['a'] } } },
      { networks: ['front', 'back'] },
      { networks: { front: { aliases: ['a'] }, back: null } },
    ],
    [
      'networks: short override adds no aliases',
      { networks: { front: null } },
      { networks: { front: { aliases: ['api.test'] } } },
      { networks: { front: { aliases: ['api.test'] } } },
    ],
    [
      'depends_on: list override gets the defaults',
      { depends_on: { db: { condition: 'service_healthy', required: true } } },
      { depends_on: ['db', 'cache'] },
      { depends_on: { db: { condition: 'service_started', required: true }, cache: { condition: 'service_started', required: true } } },
    ],
    [
      'env_file: string override appends',
      { env_file: [{ path: 'a.env', required: true }] },
      { env_file: 'b.env' },
      { env_file: [{ path: 'a.env', required: true }, 'b.env'] },
    ],
    [
      'ulimits.<name>: the override wins whole',
      { ulimits: { nofile: 1024, nproc: { soft: 1, hard: 2 } } },
      { ulimits: { nofile: { soft: 10, hard: 20 }, nproc: 5 } },
      { ulimits: { nofile: { soft: 10, hard: 20 }, nproc: 5 } },
    ],
    [
      'dns / dns_search / tmpfs: strings become lists and append',
      { dns: ['1.1.1.1'], dns_search: 'a.test', tmpfs: '/run' },
      { dns: '8.8.8.8', dns_search: ['b.test'], tmpfs: ['/tmp'] },
      { dns: ['1.1.1.1', '8.8.8.8'], dns_search: ['a.test', 'b.test'], tmpfs: ['/run', '/tmp'] },
    ],
    [
      'extra_hosts: appended without exact duplicates',
      { extra_hosts: ['a=1.1.1.1'] },
      { extra_hosts: { a: '1.1.1.1', b: '2.2.2.2' } },
      { extra_hosts: ['a=1.1.1.1', 'b=2.2.2.2'] },
    ],
    [
      'logging: same driver merges options',
      { logging: { driver: 'json-file', options: { a: '1' } } },
      { logging: { options: { b: '2' } } },
      { logging: { driver: 'json-file', options: { a: '1', b: '2' } } },
    ],
    [
      'logging: another driver replaces',
      { logging: { driver: 'json-file', options: { a: '1' } } },
      { logging: { driver: 'syslog' } },
      { logging: { driver: 'syslog' } },
    ],
    [
      'ports de-duplicated by host ip, published, target and protocol',
      { ports: [{ mode: 'ingress', target: 80, published: '8080', protocol: 'tcp' }] },
      { ports: [{ mode: 'host', target: 80, published: '8080', protocol: 'tcp' }] },
      { ports: [{ mode: 'host', target: 80, published: '8080', protocol: 'tcp' }] },
    ],
    [
      'volumes de-duplicated by target',
      { volumes: [{ type: 'bind', source: './a', target: '/app' }] },
      { volumes: ['./b:/app'] },
      { volumes: ['./b:/app'] },
    ],
    ['command: null override clears', { command: ['a'] }, { command: null }, { command: null }],
  ])('service: %s', (_name, a, b, expected) => {
    expect(merged({ services: { s: a } }, { services: { s: b } }).services.s).toEqual(expected);
  });

  it('a tag survives a merge so that a later file still resets', () => {
    const one = mergeModels({}, svc({ args: { A: '1' } }));
    const two = mergeModels(one, svc({ args: new Tagged('reset', null) }));
    const three = mergeModels(two, svc({ context: 'c' }));
    expect(stripTags(three)).toEqual(svc({ context: 'c' }));
  });

  it('ssh as a list in two files is an error, as in Compose (the first file made it a mapping)', async () => {
    const { canonical } = await import('./transform/canonical');
    const first = canonical(mergeModels({}, svc({ ssh: ['default'] })));
    expect(() => mergeModels(first, svc({ ssh: ['k=/x'] }))).toThrow(/cannot override services\.s\.build\.ssh/);
  });

  it('type mismatch is an error naming the path', () => {
    expect(() => mergeModels(svc({ platforms: ['a'] }), svc({ platforms: 'b' }))).toThrow(/cannot override services\.s\.build\.platforms/);
  });
});
