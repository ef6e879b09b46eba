import { describe, expect, it } from 'vitest';
import { CONTENT_KEY_LABEL, isReuseEnabled, keyTag, retagArgv, trustedKeyImage } from './registry-reuse';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const KEY = '0123456789abcdef0123456789abcdef';

function inspected(opts: { index?: boolean; labels?: Record<string, Record<string, string> | null>; platforms?: string[] } = {}): string {
  const platforms = opts.platforms ?? ['linux/amd64', 'linux/arm64'];
  const config = (p: string) => {
    const [os, architecture, variant] = p.split('/');
    return {
      os,
      architecture,
      ...(variant ? { variant } : {}),
      config: { Labels: opts.labels?.[p] === undefined ? { [CONTENT_KEY_LABEL]: KEY } : opts.labels[p] },
    };
  };
  if (opts.index === false)
    return JSON.stringify({
      manifest: { digest: d('1'), mediaType: 'application/vnd.oci.image.manifest.v1+json' },
      image: config(platforms[0]!),
    });
  return JSON.stringify({
    manifest: {
      digest: d('9'),
      manifests: platforms.map((p, i) => {
        const [os, architecture, variant] = p.split('/');
        return { digest: d(String(i + 1)), platform: { os, architecture, ...(variant ? { variant } : {}) } };
      }),
    },
    image: Object.fromEntries(platforms.map((p) => [p, config(p)])),
  });
}

describe('registry reuse: keys', () => {
  it.each([
    ['127.0.0.1:5000/shop/api:1.0', '127.0.0.1:5000/shop/api'],
    ['127.0.0.1:5000/shop/api', '127.0.0.1:5000/shop/api'],
    ['ghcr.io/acme/api:1.0-arm64', 'ghcr.io/acme/api'],
  ])('the key tag of %s lives in %s', (tag, repo) => {
    expect(keyTag(tag, KEY)).toBe(`${repo}:nxcb-${KEY}`);
    expect(`nxcb-${KEY}`.length).toBeLessThanOrEqual(128); // a valid tag
  });

  it.each([
    [undefined, {}, true],
    [false, {}, false],
    [true, { NX_COMPOSE_BUILDX_REUSE: 'false' }, false],
    [true, { NX_COMPOSE_BUILDX_REUSE: '0' }, false],
    [false, { NX_COMPOSE_BUILDX_REUSE: 'true' }, true],
    [undefined, { NX_COMPOSE_BUILDX_REUSE: '' }, true],
  ])('option %s with env %j → %s', (option, env, want) => expect(isReuseEnabled(option, env)).toBe(want));

  it('a hit is tagged by digest in the key tag repository', () => {
    expect(retagArgv(['r/api:1', 'r/api:latest'], `r/api:nxcb-${KEY}`, d('9'))).toEqual([
      'docker',
      'buildx',
      'imagetools',
      'create',
      '-t',
      'r/api:1',
      '-t',
      'r/api:latest',
      `r/api@${d('9')}`,
    ]);
  });
});

describe('registry reuse: trust', () => {
  const declared = ['linux/amd64', 'linux/arm64'];
  it('trusts an index whose every platform config carries the key', () => {
    expect(trustedKeyImage(inspected(), KEY, declared)).toEqual({
      image: {
        digest: d('9'),
        platforms: [
          { platform: 'linux/amd64', digest: d('1') },
          { platform: 'linux/arm64', digest: d('2') },
        ],
      },
    });
  });
  it('trusts a single manifest with the key', () => {
    expect(trustedKeyImage(inspected({ index: false }), KEY, ['linux/amd64'])).toEqual({
      image: { digest: d('1'), platforms: [{ platform: 'linux/amd64', digest: d('1') }] },
    });
  });
  it.each([
    [
      'a moved tag: one platform carries another key',
      { labels: { 'linux/arm64': { [CONTENT_KEY_LABEL]: 'other' } } },
      /linux\/arm64 config does not carry this key/,
    ],
    ['no labels at all', { labels: { 'linux/amd64': null } }, /linux\/amd64 config does not carry this key/],
    ['a declared platform missing', { platforms: ['linux/amd64'] }, /lacks linux\/arm64/],
  ])('does not trust %s', (_, opts, reason) => {
    const r = trustedKeyImage(inspected(opts), KEY, declared);
    expect('reason' in r && r.reason).toMatch(reason);
  });
  it('does not trust garbage', () => {
    expect(trustedKeyImage('not json', KEY, declared)).toEqual({ reason: 'the registry answer is not JSON' });
    expect(trustedKeyImage('{}', KEY, declared)).toEqual({ reason: 'the registry gave no digest' });
  });
});
