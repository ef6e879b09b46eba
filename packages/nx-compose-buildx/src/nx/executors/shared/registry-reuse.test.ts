import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MEDIA_TYPES, oneEntryList } from '../../../buildx/manifest';
import { RegistryFallback, type Manifest, type RegistryClient } from '../../../run/registry-http';
import { fakeDeps } from './__fixtures__/fake-deps';
import { registryImage } from './registry';
import {
  BASES_LABEL,
  basesLabel,
  CONTENT_KEY_LABEL,
  inspectedImageLabel,
  movedBases,
  KEY_IMAGE_FORMAT,
  isReuseEnabled,
  keyTag,
  lookupKeyImage,
  retag,
  retagArgv,
  trustedKeyImage,
  servedImageLabel,
} from './registry-reuse';

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
    // As buildx prints it: an index of one platform image gets that image's one config, not a map.
    image: platforms.length === 1 ? config(platforms[0]!) : Object.fromEntries(platforms.map((p) => [p, config(p)])),
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
  it('trusts a one-entry list (a one-platform image published from its key tag), whose one config imagetools prints', () => {
    expect(trustedKeyImage(inspected({ platforms: ['linux/amd64'] }), KEY, ['linux/amd64'])).toEqual({
      image: { digest: d('9'), platforms: [{ platform: 'linux/amd64', digest: d('1') }] },
    });
    const moved = trustedKeyImage(
      inspected({ platforms: ['linux/amd64'], labels: { 'linux/amd64': { [CONTENT_KEY_LABEL]: 'x' } } }),
      KEY,
      [],
    );
    expect('reason' in moved && moved.reason).toMatch(/linux\/amd64 config does not carry this key/);
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

// ---- the same questions through the registry API (run/registry-http.ts), with an in-memory registry ----

/** A registry in memory, as a RegistryClient: manifests by `repo:tag` and `repo@digest`, blobs by digest. */
function memoryRegistry() {
  const manifests = new Map<string, Manifest>();
  const blobs = new Map<string, Buffer>();
  const puts: string[] = [];
  const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const add = (repo: string, tag: string | undefined, json: unknown, mediaType: string): Manifest => {
    const bytes = Buffer.from(JSON.stringify(json, null, 2));
    const m = { bytes, mediaType, digest: sha(bytes) };
    manifests.set(`${repo}@${m.digest}`, m);
    if (tag) manifests.set(`${repo}:${tag}`, m);
    return m;
  };
  const blob = (json: unknown) => {
    const b = Buffer.from(JSON.stringify(json));
    blobs.set(sha(b), b);
    return sha(b);
  };
  const client: RegistryClient = {
    getManifest: async (ref) => manifests.get(ref),
    getBlob: async (_ref, digest) => {
      const b = blobs.get(digest);
      if (!b) throw new RegistryFallback(`no blob ${digest}`);
      return b;
    },
    putManifest: async (ref, m) => {
      puts.push(ref);
      manifests.set(ref, { ...m, digest: sha(m.bytes) });
      return sha(m.bytes);
    },
    hasBlob: async (_ref, digest) => blobs.has(digest),
    putBlob: async () => {
      throw new RegistryFallback('this registry takes no uploads');
    },
    withTimeout: () => client,
  };
  /** An image of `platforms` under `repo:tag`, each config labelled with `labels(platform)`'s key. */
  const image = (repo: string, tag: string, platforms: string[], key: (p: string) => string | undefined = () => KEY) => {
    const entries = platforms.map((p) => {
      const [os, architecture, variant] = p.split('/');
      const config = blob({
        os,
        architecture,
        ...(variant ? { variant } : {}),
        config: { Labels: key(p) ? { [CONTENT_KEY_LABEL]: key(p) } : null },
      });
      const m = add(
        repo,
        undefined,
        { schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: { digest: config }, layers: [{ size: 1000 }, { size: 234 }] },
        MEDIA_TYPES.ociManifest,
      );
      return {
        mediaType: MEDIA_TYPES.ociManifest,
        digest: m.digest,
        size: m.bytes.length,
        platform: { os, architecture, ...(variant ? { variant } : {}) },
      };
    });
    return add(repo, tag, { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: entries }, MEDIA_TYPES.ociIndex);
  };
  return { client, image, puts, manifests, add, blob };
}

describe('registry reuse through the registry API: the same trust rules, no docker process', () => {
  const repo = '127.0.0.1:5000/shop/api';
  const ref = `${repo}:nxcb-${KEY}`;
  const declared = ['linux/amd64', 'linux/arm64'];

  it('a hit: the index digest and its platforms', async () => {
    const reg = memoryRegistry();
    const top = reg.image(repo, `nxcb-${KEY}`, declared);
    const { deps, calls } = fakeDeps(() => undefined, { registry: reg.client });
    const found = await lookupKeyImage(ref, KEY, declared, '/w', deps);
    expect(found).toMatchObject({ image: { digest: top.digest, platforms: [{ platform: 'linux/amd64' }, { platform: 'linux/arm64' }] } });
    expect(calls).toEqual([]);
  });

  it.each([
    ['no such tag', () => undefined, declared, 'no image with this key'],
    [
      'a moved tag',
      (p: string) => (p === 'linux/arm64' ? 'other' : KEY),
      declared,
      /not trusted, the linux\/arm64 config does not carry this key/,
    ],
    ['no label', () => undefined, declared, /not trusted, the linux\/amd64 config does not carry this key/],
    ['a declared platform missing', () => KEY, ['linux/amd64'], /not trusted, it lacks linux\/arm64/],
  ])('a miss: %s', async (name, key, platforms, why) => {
    const reg = memoryRegistry();
    if (name !== 'no such tag') reg.image(repo, `nxcb-${KEY}`, platforms, key);
    const { deps, calls } = fakeDeps(() => undefined, { registry: reg.client });
    const found = await lookupKeyImage(ref, KEY, declared, '/w', deps);
    expect('miss' in found && found.miss).toMatch(why);
    expect(calls).toEqual([]);
  });

  it('an answer the client cannot give: the docker CLI is asked, once said why', async () => {
    const reg = memoryRegistry();
    reg.client.getManifest = async () => {
      throw new RegistryFallback('reg wants credentials from a docker credential helper');
    };
    const { deps, commands, logs } = fakeDeps(() => ({ exitCode: 1, stderr: 'ERROR: manifest unknown' }), { registry: reg.client });
    expect(await lookupKeyImage(ref, KEY, declared, '/w', deps)).toEqual({ miss: 'no image with this key' });
    expect(commands()).toEqual([`docker buildx imagetools inspect --format ${KEY_IMAGE_FORMAT} ${ref}`]);
    expect(logs.join('\n')).toContain(
      'registry API: reg wants credentials from a docker credential helper; asking docker buildx imagetools',
    );
  });

  it('a retag of an index in the same repository: its exact bytes under every tag, no docker process', async () => {
    const reg = memoryRegistry();
    const top = reg.image(repo, `nxcb-${KEY}`, declared);
    const { deps, calls } = fakeDeps(() => undefined, { registry: reg.client });
    expect(await retag([`${repo}:1`, `${repo}:latest`], ref, top.digest, '/w', deps, '[api]')).toEqual({ via: 'api' });
    expect(reg.puts).toEqual([`${repo}:1`, `${repo}:latest`]);
    expect(reg.manifests.get(`${repo}:1`)?.bytes).toEqual(top.bytes);
    expect(calls).toEqual([]);
    expect(await registryImage(`${repo}:latest`, '/w', deps)).toMatchObject({ kind: 'index', digest: top.digest });
  });

  it('a retag given the index a lookup read puts those bytes, reading nothing again', async () => {
    const reg = memoryRegistry();
    const top = reg.image(repo, `nxcb-${KEY}`, declared);
    const found = await lookupKeyImage(ref, KEY, declared, '/w', fakeDeps(() => undefined, { registry: reg.client }).deps);
    if (!('image' in found)) throw new Error('expected a hit');
    expect(found.image.index?.bytes).toEqual(top.bytes);
    const reads: string[] = [];
    const client = { ...reg.client, getManifest: async (r: string) => (reads.push(r), reg.client.getManifest(r)) };
    const { deps } = fakeDeps(() => undefined, { registry: client });
    expect(await retag([`${repo}:1`], ref, top.digest, '/w', deps, '[api]', undefined, found.image.index)).toEqual({ via: 'api' });
    expect(reads).toEqual([]);
    expect(reg.manifests.get(`${repo}:1`)?.bytes).toEqual(top.bytes);
  });

  it('a lookup through the API gives each platform its compressed size', async () => {
    const reg = memoryRegistry();
    reg.image(repo, `nxcb-${KEY}`, declared);
    const found = await lookupKeyImage(ref, KEY, declared, '/w', fakeDeps(() => undefined, { registry: reg.client }).deps);
    expect('image' in found && found.image.sizes).toEqual({ 'linux/amd64': 1234, 'linux/arm64': 1234 });
  });

  it('a retag of one manifest: the one-entry list imagetools would write, under every tag, no docker process', async () => {
    const reg = memoryRegistry();
    const top = reg.image(repo, `nxcb-${KEY}`, ['linux/arm64']);
    const entry = JSON.parse(top.bytes.toString()).manifests[0];
    const manifest = reg.manifests.get(`${repo}@${entry.digest}`)!;
    const list = oneEntryList(manifest, { os: 'linux', architecture: 'arm64' })!;
    const { deps, calls } = fakeDeps(() => undefined, { registry: reg.client });
    expect(await retag([`${repo}:1`, ref], ref, entry.digest, '/w', deps, '[api]')).toEqual({
      via: 'api',
      listed: { digest: list.digest, platform: 'linux/arm64', bytes: 1234 },
    });
    expect(reg.puts).toEqual([`${repo}:1`, ref]);
    expect(reg.manifests.get(`${repo}:1`)?.bytes).toEqual(list.bytes);
    expect(calls).toEqual([]);
  });

  it.each([
    ['one manifest whose config names no platform we normalise', 'odd', `${repo}:1`],
    ['a tag in another repository (its blobs would be copied)', 'index', '127.0.0.1:5000/shop/other:1'],
  ])('a retag of %s is left to imagetools create', async (_, kind, tag) => {
    const reg = memoryRegistry();
    const top = reg.image(repo, `nxcb-${KEY}`, kind === 'odd' ? ['linux/mips128'] : declared);
    const digest = kind === 'index' ? top.digest : JSON.parse(top.bytes.toString()).manifests[0].digest;
    const { deps, commands } = fakeDeps(() => undefined, { registry: reg.client });
    expect(await retag([tag], ref, digest, '/w', deps, '[api]')).toEqual({ via: 'cli' });
    expect(reg.puts).toEqual([]);
    expect(commands()).toEqual([`docker buildx imagetools create -t ${tag} ${repo}@${digest}`]);
  });

  it('a single manifest read through the API: its platform from its config', async () => {
    const reg = memoryRegistry();
    const config = reg.blob({ os: 'linux', architecture: 'arm', variant: 'v7' });
    const m = reg.add(
      repo,
      'arm',
      { schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: { digest: config } },
      MEDIA_TYPES.ociManifest,
    );
    const { deps, calls } = fakeDeps(() => undefined, { registry: reg.client });
    expect(await registryImage(`${repo}:arm`, '/w', deps)).toEqual({
      kind: 'manifest',
      digest: m.digest,
      platforms: [{ platform: 'linux/arm/v7', digest: m.digest }],
    });
    expect(calls).toEqual([]);
  });
});

describe('the recorded base digests', () => {
  it('are one sorted JSON label, absent with no base', () => {
    expect(basesLabel({ 'r/b:1': d('2'), 'r/a:1': d('1') })).toBe(JSON.stringify({ 'r/a:1': d('1'), 'r/b:1': d('2') }));
    expect(basesLabel({})).toBeUndefined();
  });

  it.each([
    { title: 'a moved tag', label: { 'r/a:1': d('1'), 'r/b:1': d('2') }, now: { 'r/a:1': d('3'), 'r/b:1': d('2') }, moved: ['r/a:1'] },
    { title: 'nothing moved', label: { 'r/a:1': d('1') }, now: { 'r/a:1': d('1') }, moved: [] },
    { title: 'a base that was not recorded', label: {}, now: { 'r/a:1': d('1') }, moved: [] },
  ])('name $title', ({ label, now, moved }) => {
    expect(movedBases(JSON.stringify(label), now).map((m) => m.image)).toEqual(moved);
  });

  it.each([undefined, '', 'not json', '42', 'null'])('an unreadable label %j names none', (label) => {
    expect(movedBases(label, { 'r/a:1': d('1') })).toEqual([]);
  });

  it('are read from the image a tag serves through the registry API, with no docker process', async () => {
    const reg = memoryRegistry();
    const repo = '127.0.0.1:5000/shop/api';
    const labelled = reg.blob({ os: 'linux', architecture: 'amd64', config: { Labels: { [BASES_LABEL]: '{"r/a:1":"x"}' } } });
    const m = reg.add(
      repo,
      undefined,
      { schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: { digest: labelled } },
      MEDIA_TYPES.ociManifest,
    );
    const entry = {
      mediaType: MEDIA_TYPES.ociManifest,
      digest: m.digest,
      size: m.bytes.length,
      platform: { os: 'linux', architecture: 'amd64' },
    };
    reg.add(repo, '1', { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [entry] }, MEDIA_TYPES.ociIndex);
    const { deps, calls } = fakeDeps(() => undefined, { registry: reg.client });
    expect(await servedImageLabel(`${repo}:1`, BASES_LABEL, '/w', deps)).toBe('{"r/a:1":"x"}');
    expect(await servedImageLabel(`${repo}:1`, CONTENT_KEY_LABEL, '/w', deps)).toBeUndefined();
    expect(await servedImageLabel(`${repo}:absent`, BASES_LABEL, '/w', deps)).toBeUndefined();
    expect(calls).toEqual([]);
  });

  it('are read from a manifest config or the first platform of an index that has them', () => {
    const labels = { [BASES_LABEL]: '{"r/a:1":"x"}' };
    expect(inspectedImageLabel(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: labels } }), BASES_LABEL)).toBe(
      '{"r/a:1":"x"}',
    );
    const index = { 'linux/amd64': { config: { Labels: null } }, 'linux/arm64': { config: { Labels: labels } } };
    expect(inspectedImageLabel(JSON.stringify(index), BASES_LABEL)).toBe('{"r/a:1":"x"}');
    expect(inspectedImageLabel('garbage', BASES_LABEL)).toBeUndefined();
  });
});
