import { describe, expect, it } from 'vitest';
import {
  ImageCycleError,
  detectCycles,
  imageEdgeReasons,
  imageEdges,
  imageRefMatches,
  normalizeImageRef,
  topologicalOrder,
  transitiveDependencies,
  type EdgeRecord,
  type ImageNode,
} from './image-edges';

describe('normalizeImageRef', () => {
  it.each<[string, ReturnType<typeof normalizeImageRef>]>([
    ['busybox', { name: 'docker.io/library/busybox', tag: 'latest' }],
    ['busybox:1.36', { name: 'docker.io/library/busybox', tag: '1.36' }],
    ['docker.io/library/busybox:latest', { name: 'docker.io/library/busybox', tag: 'latest' }],
    ['index.docker.io/library/busybox', { name: 'docker.io/library/busybox', tag: 'latest' }],
    ['acme/api', { name: 'docker.io/acme/api', tag: 'latest' }],
    ['ghcr.io/acme/api:2', { name: 'ghcr.io/acme/api', tag: '2' }],
    ['localhost/api', { name: 'localhost/api', tag: 'latest' }],
    ['localhost:5000/api:dev', { name: 'localhost:5000/api', tag: 'dev' }],
    ['registry:5000/team/api', { name: 'registry:5000/team/api', tag: 'latest' }],
    ['alpine@sha256:abc', { name: 'docker.io/library/alpine', digest: 'sha256:abc' }],
    ['alpine:3@sha256:abc', { name: 'docker.io/library/alpine', tag: '3', digest: 'sha256:abc' }],
    ['docker-image://alpine:3', { name: 'docker.io/library/alpine', tag: '3' }],
    ['', undefined],
    ['${BASE}', undefined],
    ['https://example.com/x.git', undefined],
    ['alpine:', undefined],
  ])('%j', (ref, expected) => {
    expect(normalizeImageRef(ref)).toEqual(expected);
  });
});

describe('imageRefMatches', () => {
  it.each<[string, string, boolean]>([
    ['busybox', 'docker.io/library/busybox:latest', true],
    ['busybox:latest', 'busybox', true],
    ['busybox:1', 'busybox', false],
    ['acme/base', 'docker.io/acme/base:latest', true],
    ['acme/base', 'ghcr.io/acme/base', false],
    ['ghcr.io/acme/base:1', 'ghcr.io/acme/base:1', true],
    ['base@sha256:abc', 'base:1', true], // digest pin of a name we build: by name
    ['base:1@sha256:abc', 'base:2', true],
    ['base@sha256:abc', 'base@sha256:abc', true],
    ['base@sha256:abc', 'base@sha256:def', false],
    ['base', 'base@sha256:abc', false], // a tag ref never matches a digest-only tag
    ['other@sha256:abc', 'base:1', false],
  ])('%s uses %s: %s', (ref, tag, expected) => {
    expect(imageRefMatches(ref, tag)).toBe(expected);
  });
});

const node = (project: string, over: Partial<ImageNode> = {}): ImageNode => ({
  project,
  tags: [],
  imageRefs: [],
  contexts: {},
  context: project,
  ...over,
});

describe('imageEdges', () => {
  it.each<{ name: string; nodes: ImageNode[]; expected: EdgeRecord }>([
    {
      name: 'FROM another service image, normalised',
      nodes: [node('base', { tags: ['acme/base:latest'] }), node('api', { imageRefs: ['docker.io/acme/base'] })],
      expected: { api: ['base'], base: [] },
    },
    {
      name: 'tag mismatch: no edge',
      nodes: [node('base', { tags: ['acme/base:1'] }), node('api', { imageRefs: ['acme/base:2'] })],
      expected: { api: [], base: [] },
    },
    {
      name: 'any of several tags (image: and build.tags)',
      nodes: [node('base', { tags: ['acme/base:1', 'ghcr.io/acme/base:edge'] }), node('api', { imageRefs: ['ghcr.io/acme/base:edge', 'node:20'] })],
      expected: { api: ['base'], base: [] },
    },
    {
      name: 'service: and target: contexts',
      nodes: [node('a'), node('b', { contexts: { deps: 'service:a' } }), node('c', { context: 'target:b' })],
      expected: { a: [], b: ['a'], c: ['b'] },
    },
    {
      name: 'service: resolves within the compose project first',
      nodes: [
        node('shop-db', { service: 'db', composeProject: 'shop' }),
        node('blog-db', { service: 'db', composeProject: 'blog' }),
        node('shop-api', { service: 'api', composeProject: 'shop', contexts: { d: 'service:db' } }),
      ],
      expected: { 'blog-db': [], 'shop-api': ['shop-db'], 'shop-db': [] },
    },
    {
      name: 'docker-image:// context matches by image',
      nodes: [node('base', { tags: ['acme/base:1'] }), node('api', { contexts: { b: 'docker-image://acme/base:1' } })],
      expected: { api: ['base'], base: [] },
    },
    {
      name: 'an image ref served by a named context makes no image edge',
      nodes: [
        node('alpine-fork', { tags: ['alpine:latest'] }),
        node('tools', { tags: ['tools'] }),
        node('api', { imageRefs: ['alpine', 'docker.io/library/alpine:latest'], contexts: { alpine: 'service:tools' } }),
      ],
      expected: { 'alpine-fork': [], api: ['tools'], tools: [] },
    },
    {
      name: 'no self edge',
      nodes: [node('a', { tags: ['a'], imageRefs: ['a'] })],
      expected: { a: [] },
    },
    {
      name: 'two services with the same tag: both',
      nodes: [node('x', { tags: ['dup'] }), node('y', { tags: ['dup'] }), node('z', { imageRefs: ['dup'] })],
      expected: { x: [], y: [], z: ['x', 'y'] },
    },
    {
      name: 'unknown service: reference makes no edge',
      nodes: [node('a', { context: 'service:nope' })],
      expected: { a: [] },
    },
  ])('$name', ({ nodes, expected }) => {
    expect(imageEdges(nodes)).toEqual(expected);
  });

  it('explains each edge', () => {
    const nodes = [node('base', { tags: ['acme/base'] }), node('api', { imageRefs: ['acme/base:latest'], contexts: { b: 'service:base' } })];
    expect(imageEdgeReasons(nodes)).toEqual([
      { dependent: 'api', dependency: 'base', via: 'context', ref: 'service:base' },
      { dependent: 'api', dependency: 'base', via: 'image', ref: 'acme/base:latest' },
    ]);
  });

  it('1,000 services stay fast', () => {
    const nodes = Array.from({ length: 1000 }, (_, i) =>
      node(`s${i}`, { tags: [`acme/s${i}:1`], imageRefs: i > 0 ? [`acme/s${i - 1}:1`, 'node:20'] : ['node:20'], contexts: i > 1 ? { x: `service:s${i - 2}` } : {} }),
    );
    const t = performance.now();
    const edges = imageEdges(nodes);
    const order = topologicalOrder(edges);
    expect(performance.now() - t).toBeLessThan(1000);
    expect(edges.s5).toEqual(['s3', 's4']);
    expect(order[0]).toBe('s0');
    expect(order[999]).toBe('s999');
    expect(transitiveDependencies(edges, 's999')).toHaveLength(999);
  });
});

describe('detectCycles', () => {
  it.each<[string, EdgeRecord, string[] | undefined]>([
    ['none', { a: ['b'], b: [] }, undefined],
    ['two', { a: ['b'], b: ['a'] }, ['a', 'b']],
    ['three, found from the smallest name', { c: ['a'], a: ['b'], b: ['c'] }, ['a', 'b', 'c']],
    ['self loop', { a: ['a'] }, ['a']],
    ['cycle off a prefix', { a: ['b'], b: ['c'], c: ['d'], d: ['b'] }, ['b', 'c', 'd']],
    ['diamond is not a cycle', { a: ['b', 'c'], b: ['d'], c: ['d'], d: [] }, undefined],
    ['deps not listed as keys', { a: ['x'] }, undefined],
  ])('%s', (_n, edges, expected) => {
    expect(detectCycles(edges)).toEqual(expected);
  });

  it('handles a 10,000-long chain without recursion', () => {
    const edges: EdgeRecord = {};
    for (let i = 0; i < 10_000; i++) edges[`n${i}`] = i > 0 ? [`n${i - 1}`] : [];
    expect(detectCycles(edges)).toBeUndefined();
    edges.n0 = ['n9999'];
    expect(detectCycles(edges)).toHaveLength(10_000);
  });
});

describe('topologicalOrder', () => {
  it.each<[string, EdgeRecord, string[]]>([
    ['dependencies first', { api: ['base'], base: [], web: ['api'] }, ['base', 'api', 'web']],
    ['alphabetical among ready', { z: [], a: [], m: ['z'] }, ['a', 'z', 'm']],
    ['diamond', { a: ['b', 'c'], b: ['d'], c: ['d'], d: [] }, ['d', 'b', 'c', 'a']],
    ['deps not listed as keys', { a: ['x'] }, ['x', 'a']],
  ])('%s', (_n, edges, expected) => {
    expect(topologicalOrder(edges)).toEqual(expected);
  });

  it('throws ImageCycleError naming the cycle', () => {
    expect(() => topologicalOrder({ a: ['b'], b: ['a'], c: [] })).toThrowError(ImageCycleError);
    expect(() => topologicalOrder({ a: ['b'], b: ['a'], c: [] })).toThrowError('Image dependency cycle: a -> b -> a');
  });
});

describe('transitiveDependencies', () => {
  const edges: EdgeRecord = { web: ['api'], api: ['base', 'tools'], tools: ['base'], base: [], loop: ['loop2'], loop2: ['loop'] };
  it.each<[string, string[]]>([
    ['web', ['api', 'base', 'tools']],
    ['api', ['base', 'tools']],
    ['base', []],
    ['unknown', []],
    ['loop', ['loop2']],
  ])('%s', (project, expected) => {
    expect(transitiveDependencies(edges, project)).toEqual(expected);
  });
});
