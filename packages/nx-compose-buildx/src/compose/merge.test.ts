import { describe, expect, it } from 'vitest';
import { mergeModels, stripTags } from './merge';
import { Tagged } from './yaml-source';

const svc = (build: unknown, extra: Record<string, unknown> = {}) => ({ services: { s: { build, ...extra } } });
const merged = (a: Record<string, unknown>, b: Record<string, unknown>) => stripTags(mergeModels(a, b)) as { services: { s: Record<string, unknown> } };

describe('mergeModels', () => {
  it.each([
    ['scalars are replaced', svc({ context: 'a', target: 't1' }), svc({ target: 't2' }), { context: 'a', target: 't2' }],
    ['short form == {context}', svc('./a'), svc({ dockerfile: 'D' }), { context: './a', dockerfile: 'D' }],
    ['short form over long form', svc({ context: 'a', dockerfile: 'D' }), svc('./b'), { context: './b', dockerfile: 'D' }],
    ['platforms append (no de-dup, as Compose 2.26)', svc({ platforms: ['a', 'b'] }), svc({ platforms: ['b', 'c'] }), { platforms: ['a', 'b', 'b', 'c'] }],
    ['cache_from / cache_to append', svc({ cache_from: ['x'], cache_to: ['y'] }), svc({ cache_from: ['x'], cache_to: ['z'] }), { cache_from: ['x', 'x'], cache_to: ['y', 'z'] }],
    ['tags append and de-duplicate', svc({ tags: ['t1', 't2'] }), svc({ tags: ['t2', 't3'] }), { tags: ['t1', 't2', 't3'] }],
    ['secrets append', svc({ secrets: ['a'] }), svc({ secrets: ['a', 'b'] }), { secrets: ['a', 'a', 'b'] }],
    ['ssh append and de-duplicate by id', svc({ ssh: ['default'] }), svc({ ssh: ['default', 'k=/x'] }), { ssh: ['default', 'k=/x'] }],
    ['args map + list, last wins', svc({ args: { A: '1', B: '2' } }), svc({ args: ['B=3', 'C=4'] }), { args: { A: '1', B: '3', C: '4' } }],
    ['args list + map', svc({ args: ['A=1'] }), svc({ args: { A: '2' } }), { args: { A: '2' } }],
    ['args KEY alone replaces KEY=V', svc({ args: { A: '1' } }), svc({ args: ['A'] }), { args: { A: null } }],
    ['labels / additional_contexts merge by key', svc({ labels: ['a=1'], additional_contexts: { x: './x' } }), svc({ labels: { a: '2' }, additional_contexts: ['y=./y'] }), { labels: { a: '2' }, additional_contexts: { x: './x', y: './y' } }],
    ['x- keys are replaced, not merged', svc({ 'x-ext': { a: 1 } }), svc({ 'x-ext': { b: 2 } }), { 'x-ext': { b: 2 } }],
    ['!reset removes', svc({ args: { A: '1' }, tags: ['t'] }), svc({ args: new Tagged('reset', {}) }), { tags: ['t'] }],
    ['!override replaces', svc({ platforms: ['a'], args: { A: '1' } }), svc({ platforms: new Tagged('override', ['b']), args: new Tagged('override', { B: '2' }) }), { platforms: ['b'], args: { B: '2' } }],
    ['!override on build replaces the whole build', svc({ context: 'a', args: { A: '1' } }), svc(new Tagged('override', { context: 'b' })), { context: 'b' }],
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
  ])('service: %s', (_name, a, b, expected) => {
    expect(merged({ services: { s: a } }, { services: { s: b } }).services.s).toEqual(expected);
  });

  it('a tag survives a merge so that a later file still resets', () => {
    const one = mergeModels({}, svc({ args: { A: '1' } }));
    const two = mergeModels(one, svc({ args: new Tagged('reset', null) }));
    const three = mergeModels(two, svc({ context: 'c' }));
    expect(stripTags(three)).toEqual(svc({ context: 'c' }));
  });

  it('type mismatch is an error naming the path', () => {
    expect(() => mergeModels(svc({ platforms: ['a'] }), svc({ platforms: 'b' }))).toThrow(/cannot override services\.s\.build\.platforms/);
  });
});
