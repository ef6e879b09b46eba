import { describe, expect, it } from 'vitest';
import { detectCycles, imageEdgeReasons, imageEdges, type EdgeRecord, type ImageNode } from './image-edges';
import { dockerfileImageRefs } from './dockerfile-refs';

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
      nodes: [
        node('base', { tags: ['acme/base:1', 'ghcr.io/acme/base:edge'] }),
        node('api', { imageRefs: ['ghcr.io/acme/base:edge', 'node:20'] }),
      ],
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
      name: 'an image ref served by a named context makes no image edge (the refs come without it)',
      nodes: [
        node('alpine-fork', { tags: ['alpine:latest'] }),
        node('tools', { tags: ['tools'] }),
        node('api', {
          imageRefs: dockerfileImageRefs('FROM docker.io/library/alpine:latest\nCOPY --from=alpine /a /a\n', {}, undefined, ['alpine']),
          contexts: { alpine: 'service:tools' },
        }),
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
    const nodes = [
      node('base', { tags: ['acme/base'] }),
      node('api', { imageRefs: ['acme/base:latest'], contexts: { b: 'service:base' } }),
    ];
    expect(imageEdgeReasons(nodes)).toEqual([
      { dependent: 'api', dependency: 'base', via: 'context', ref: 'service:base' },
      { dependent: 'api', dependency: 'base', via: 'image', ref: 'acme/base:latest' },
    ]);
  });

  it('1,000 services in a chain', () => {
    const nodes = Array.from({ length: 1000 }, (_, i) =>
      node(`s${i}`, {
        tags: [`acme/s${i}:1`],
        imageRefs: i > 0 ? [`acme/s${i - 1}:1`, 'node:20'] : ['node:20'],
        contexts: i > 1 ? { x: `service:s${i - 2}` } : {},
      }),
    );
    const edges = imageEdges(nodes);
    expect(edges.s5).toEqual(['s3', 's4']);
    expect(edges.s0).toEqual([]);
    expect(detectCycles(edges)).toBeUndefined();
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
