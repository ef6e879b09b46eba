import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pushByDigestOutput } from '../buildx/argv';
import {
  canPushByDigest,
  coverage,
  digestFileName,
  digestsDirOf,
  legCacheEntry,
  legPlatforms,
  legTag,
  parseDigestRecord,
  pinnedRefs,
  platformRestriction,
  readDigestRecords,
  writeDigestRecord,
  type DigestRecord,
} from './native-leg';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const rec = (over: Partial<DigestRecord> = {}): DigestRecord => ({
  project: 'api',
  service: 'api',
  platform: 'linux/arm64',
  repository: '127.0.0.1:5000/e2e/api',
  digest: d('a'),
  reused: false,
  tags: ['127.0.0.1:5000/e2e/api:1.0'],
  ...over,
});

describe('platformRestriction', () => {
  it.each([
    { option: undefined, env: {}, expected: undefined },
    { option: undefined, env: { NX_COMPOSE_BUILDX_PLATFORMS: '' }, expected: undefined },
    { option: undefined, env: { NX_COMPOSE_BUILDX_PLATFORMS: 'linux/arm64' }, expected: ['linux/arm64'] },
    { option: undefined, env: { NX_COMPOSE_BUILDX_PLATFORMS: ' linux/arm64/v8 , linux/arm ,' }, expected: ['linux/arm64', 'linux/arm/v7'] },
    { option: ['linux/amd64'], env: { NX_COMPOSE_BUILDX_PLATFORMS: 'linux/arm64' }, expected: ['linux/amd64'] },
    { option: [], env: { NX_COMPOSE_BUILDX_PLATFORMS: 'linux/arm64' }, expected: ['linux/arm64'] },
  ])('$option / $env → $expected', ({ option, env, expected }) => {
    expect(platformRestriction(option, env)).toEqual(expected);
  });

  it('names the variable and the bad entry', () => {
    expect(() => platformRestriction(undefined, { NX_COMPOSE_BUILDX_PLATFORMS: 'linux/arm65' })).toThrow(
      /NX_COMPOSE_BUILDX_PLATFORMS=linux\/arm65: .*Did you mean "linux\/arm64"/,
    );
  });
});

describe('legPlatforms', () => {
  it.each([
    { declared: ['linux/amd64', 'linux/arm64'], only: ['linux/arm64'], expected: ['linux/arm64'] },
    { declared: ['linux/amd64', 'linux/arm64/v8'], only: ['linux/arm64', 'linux/amd64'], expected: ['linux/amd64', 'linux/arm64'] },
    { declared: ['linux/amd64'], only: ['linux/arm64'], expected: [] },
    { declared: ['linux/arm'], only: ['linux/arm/v7'], expected: ['linux/arm/v7'] },
    { declared: [], only: ['linux/arm64'], expected: [] },
  ])('$declared ∩ $only → $expected', ({ declared, only, expected }) => {
    expect(legPlatforms(declared, only)).toEqual(expected);
  });
});

describe('names and flags', () => {
  it.each([
    ['api', 'linux/amd64', 'api/linux-amd64.json'],
    ['api', 'linux/arm64/v8', 'api/linux-arm64.json'],
    ['store-frontend', 'linux/arm/v7', 'store-frontend/linux-arm-v7.json'],
    ['w', 'windows/amd64', 'w/windows-amd64.json'],
  ])('digest file of %s %s: %s', (project, platform, expected) => {
    expect(digestFileName(project, platform)).toBe(expected);
  });

  it.each([
    [undefined, {}, 'dist/nxcb-digests'],
    [undefined, { NX_COMPOSE_BUILDX_DIGESTS_DIR: 'out/d' }, 'out/d'],
    ['opt/d', { NX_COMPOSE_BUILDX_DIGESTS_DIR: 'out/d' }, 'opt/d'],
  ])('digests dir %s %j → %s', (option, env, expected) => {
    expect(digestsDirOf(option, env)).toBe(expected);
  });

  it.each([
    ['127.0.0.1:5000/e2e/api:1.0', 'linux/arm64', '127.0.0.1:5000/e2e/api:nxcb-leg-arm64'],
    ['127.0.0.1:5000/e2e/api', 'linux/arm/v7', '127.0.0.1:5000/e2e/api:nxcb-leg-armv7'],
    ['reg/api:1.0@sha256:x', 'linux/amd64', 'reg/api:nxcb-leg-amd64'],
  ])('leg tag of %s %s: %s', (tag, platform, expected) => {
    expect(legTag(tag, platform)).toBe(expected);
  });

  it.each([
    ['docker', false],
    [undefined, false],
    ['docker-container', true],
    ['remote', true],
    ['kubernetes', true],
  ])('driver %s pushes by digest: %s', (driver, expected) => {
    expect(canPushByDigest(driver)).toBe(expected);
  });

  it('the push-by-digest output', () => {
    expect(pushByDigestOutput('127.0.0.1:5000/e2e/api')).toBe(
      'type=image,name=127.0.0.1:5000/e2e/api,push-by-digest=true,name-canonical=true,push=true',
    );
  });

  it.each([
    [
      'type=registry,ref=127.0.0.1:5000/cache/api:buildcache,mode=max',
      'type=registry,ref=127.0.0.1:5000/cache/api:buildcache-arm64,mode=max',
    ],
    ['type=registry,ref=127.0.0.1:5000/cache/api', 'type=registry,ref=127.0.0.1:5000/cache/api:latest-arm64'],
    ['type=gha,scope=api,mode=max', 'type=gha,scope=api-arm64,mode=max'],
    ['type=local,dest=.buildx-cache/api,mode=max', 'type=local,dest=.buildx-cache/api-arm64,mode=max'],
    ['type=local,src=.buildx-cache/api', 'type=local,src=.buildx-cache/api-arm64'],
    ['type=inline', 'type=inline'],
  ])('leg cache %s → %s', (entry, expected) => {
    expect(legCacheEntry(entry, 'linux/arm64')).toBe(expected);
  });
});

describe('parseDigestRecord', () => {
  const f = 'dist/nxcb-digests/api/linux-arm64.json';
  it('reads a record, normalising the platform', () => {
    expect(parseDigestRecord(JSON.stringify({ ...rec(), platform: 'linux/arm64/v8', contentKey: 'k' }), f)).toEqual({
      record: { ...rec(), contentKey: 'k' },
    });
  });
  it.each([
    ['not json', '{', /not JSON/],
    ['no digest', JSON.stringify({ ...rec(), digest: undefined }), /"digest" is missing/],
    ['a short digest', JSON.stringify({ ...rec(), digest: 'sha256:abc' }), /is not a sha256 digest/],
    ['a bad platform', JSON.stringify({ ...rec(), platform: 'linux/arm65' }), /Invalid platform/],
    ['a flag for a repository', JSON.stringify({ ...rec(), repository: '--push' }), /is not a repository/],
    ['an array', '[]', /"project" is missing/],
  ])('%s is an error naming the file', (_name, text, message) => {
    const r = parseDigestRecord(text, f);
    expect('error' in r && r.error).toMatch(message);
    expect('error' in r && r.error).toContain(f);
  });
});

describe('coverage', () => {
  it.each([
    { declared: ['linux/amd64', 'linux/arm64'], found: ['linux/amd64', 'linux/arm64'], missing: [], extra: [] },
    { declared: ['linux/amd64', 'linux/arm64'], found: ['linux/amd64'], missing: ['linux/arm64'], extra: [] },
    { declared: ['linux/amd64', 'linux/arm/v7'], found: [], missing: ['linux/amd64', 'linux/arm/v7'], extra: [] },
    { declared: ['linux/amd64'], found: ['linux/amd64', 'linux/s390x'], missing: [], extra: ['linux/s390x'] },
    { declared: ['linux/arm64/v8'], found: ['linux/arm64'], missing: [], extra: [] },
  ])('$declared with $found', ({ declared, found, missing, extra }) => {
    expect(
      coverage(
        declared,
        found.map((platform) => rec({ platform })),
      ),
    ).toEqual({ missing, extra });
  });
});

describe('pinnedRefs', () => {
  const base = rec({ project: 'base', repository: '127.0.0.1:5000/e2e/base', tags: ['127.0.0.1:5000/e2e/base:1.0'], digest: d('b') });
  it.each([
    { refs: ['127.0.0.1:5000/e2e/base:1.0'], expected: { '127.0.0.1:5000/e2e/base:1.0': `127.0.0.1:5000/e2e/base@${d('b')}` } },
    { refs: ['127.0.0.1:5000/e2e/base:2.0'], expected: {} },
    { refs: ['127.0.0.1:5000/nxcb/busybox:latest'], expected: {} },
    {
      refs: ['docker-image://127.0.0.1:5000/e2e/base:1.0'],
      expected: { 'docker-image://127.0.0.1:5000/e2e/base:1.0': `127.0.0.1:5000/e2e/base@${d('b')}` },
    },
  ])('$refs', ({ refs, expected }) => {
    expect(pinnedRefs(refs, [base])).toEqual(expected);
  });
});

describe('digest files on disk', () => {
  const roots: string[] = [];
  afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));
  const ws = () => {
    const r = mkdtempSync(join(tmpdir(), 'nxcb-digests-'));
    roots.push(r);
    return r;
  };

  it('writes one file per project and platform and reads them back', () => {
    const root = ws();
    expect(writeDigestRecord(root, 'dist/d', rec())).toBe('dist/d/api/linux-arm64.json');
    writeDigestRecord(root, 'dist/d', rec({ platform: 'linux/amd64', digest: d('c'), reused: true }));
    writeDigestRecord(root, 'dist/d', rec({ project: 'web', service: 'web' }));
    expect(JSON.parse(readFileSync(join(root, 'dist/d/api/linux-arm64.json'), 'utf8'))).toEqual(rec());
    expect(readDigestRecords(root, 'dist/d', { project: 'api' }).records.map((r) => r.platform)).toEqual(['linux/amd64', 'linux/arm64']);
    expect(readDigestRecords(root, 'dist/d', { platform: 'linux/arm64' }).records.map((r) => r.project)).toEqual(['api', 'web']);
    expect(readDigestRecords(root, 'dist/none', { project: 'api' })).toEqual({ records: [], problems: [] });
  });

  it('a file in the wrong place or broken is a problem naming it', () => {
    const root = ws();
    mkdirSync(join(root, 'd/api'), { recursive: true });
    writeFileSync(join(root, 'd/api/linux-amd64.json'), JSON.stringify(rec()));
    writeFileSync(join(root, 'd/api/linux-s390x.json'), JSON.stringify(rec({ project: 'web', platform: 'linux/s390x' })));
    writeFileSync(join(root, 'd/api/linux-arm64.json'), 'x');
    expect(readDigestRecords(root, 'd', { project: 'api' }).problems).toEqual([
      'd/api/linux-amd64.json: holds platform linux/arm64, not the one its name says',
      expect.stringMatching(/^d\/api\/linux-arm64\.json: not JSON/),
      'd/api/linux-s390x.json: holds project "web", not "api"',
    ]);
  });

  it('never writes outside the workspace', () => {
    const root = ws();
    const outside = ws();
    symlinkSync(outside, join(root, 'link'));
    expect(() => writeDigestRecord(root, '../x', rec())).toThrow(/outside the workspace/);
    expect(() => writeDigestRecord(root, 'link/d', rec())).toThrow(/outside the workspace/);
    expect(() => writeDigestRecord(root, 'd', rec({ project: '../../x' }))).toThrow(/outside its folder/);
    expect(readDigestRecords(root, '../x', { project: 'api' }).problems).toEqual(['digestsDir ../x lies outside the workspace']);
  });
});
