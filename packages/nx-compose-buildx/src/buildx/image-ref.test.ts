import { describe, expect, it } from 'vitest';
import { imageRefMatches, normalizeImageRef, registryLocation, repositoryOf, splitImageRef, withTagSuffix } from './image-ref';

describe('splitImageRef', () => {
  it.each<[string, ReturnType<typeof splitImageRef>]>([
    ['app', { repository: 'app' }],
    ['127.0.0.1:5000/shop/api:1.0', { repository: '127.0.0.1:5000/shop/api', tag: '1.0' }],
    ['127.0.0.1:5000/shop/api', { repository: '127.0.0.1:5000/shop/api' }],
    ['r/app:1@sha256:abc', { repository: 'r/app', tag: '1', digest: 'sha256:abc' }],
    ['r/app@sha256:abc', { repository: 'r/app', digest: 'sha256:abc' }],
  ])('%s', (ref, expected) => expect(splitImageRef(ref)).toEqual(expected));

  it.each([
    ['reg:5000/app:1.0', 'reg:5000/app'],
    ['reg:5000/app', 'reg:5000/app'],
    ['app:1@sha256:abc', 'app'],
    ['app', 'app'],
    ['ghcr.io/o/app:v1@sha256:abc', 'ghcr.io/o/app'],
  ])('repositoryOf(%s) is %s', (ref, expected) => expect(repositoryOf(ref)).toBe(expected));

  it.each([
    ['reg/app:1.0', 'amd64', 'reg/app:1.0-amd64'],
    ['127.0.0.1:5000/app', 'arm64', '127.0.0.1:5000/app:latest-arm64'],
    ['127.0.0.1:5000/app:v2@sha256:abc', 'armv7', '127.0.0.1:5000/app:v2-armv7'],
  ])('withTagSuffix(%s, %s) is %s', (ref, suffix, expected) => expect(withTagSuffix(ref, suffix)).toBe(expected));

  it.each([
    ['127.0.0.1:5000/shop/api:latest', { host: '127.0.0.1:5000', path: 'shop/api' }],
    ['localhost/api', { host: 'localhost', path: 'api' }],
    ['busybox', { host: 'registry-1.docker.io', path: 'library/busybox' }],
    ['acme/api:1', { host: 'registry-1.docker.io', path: 'acme/api' }],
  ])('registryLocation(%s)', (ref, expected) => expect(registryLocation(ref)).toEqual(expected));
});

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
