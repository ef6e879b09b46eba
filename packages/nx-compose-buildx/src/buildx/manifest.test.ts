import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  comparePlatforms,
  oneEntryList,
  parseBuildxMetadata,
  parseRawManifest,
  platformFromImageConfig,
  platformsFromOciLayout,
} from './manifest';

const d = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

const OCI_INDEX = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  manifests: [
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d(1), size: 480, platform: { architecture: 'amd64', os: 'linux' } },
    {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: d(2),
      size: 480,
      platform: { architecture: 'arm64', os: 'linux', variant: 'v8' },
    },
    {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: d(3),
      size: 480,
      platform: { architecture: 'arm', os: 'linux', variant: 'v7' },
    },
    {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: d(4),
      size: 566,
      annotations: { 'vnd.docker.reference.digest': d(1), 'vnd.docker.reference.type': 'attestation-manifest' },
      platform: { architecture: 'unknown', os: 'unknown' },
    },
  ],
});

const DOCKER_LIST = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
  manifests: [
    {
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      digest: d(5),
      size: 1,
      platform: { architecture: 's390x', os: 'linux' },
    },
  ],
});

const ONE_MANIFEST = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: d(6), size: 100 },
  layers: [],
});

describe('parseRawManifest', () => {
  test.each([
    [
      'OCI index with an attestation',
      OCI_INDEX,
      {
        kind: 'index',
        mediaType: 'application/vnd.oci.image.index.v1+json',
        platforms: [
          { platform: 'linux/amd64', digest: d(1) },
          { platform: 'linux/arm64', digest: d(2) },
          { platform: 'linux/arm/v7', digest: d(3) },
        ],
        attestations: [d(4)],
      },
    ],
    [
      'Docker manifest list',
      DOCKER_LIST,
      {
        kind: 'index',
        mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
        platforms: [{ platform: 'linux/s390x', digest: d(5) }],
        attestations: [],
      },
    ],
    ['one manifest', ONE_MANIFEST, { kind: 'manifest', mediaType: 'application/vnd.oci.image.manifest.v1+json', configDigest: d(6) }],
  ])('%s', (_n, text, expected) => {
    expect(parseRawManifest(text)).toEqual(expected);
  });

  test('not JSON', () => {
    expect(() => parseRawManifest('ERROR: not found')).toThrow(/not JSON/);
  });
});

describe('parseBuildxMetadata', () => {
  test('docker driver, multi-platform', () => {
    const text = JSON.stringify({
      'buildx.build.ref': 'default/default/xyz',
      'containerimage.descriptor': { mediaType: 'application/vnd.oci.image.index.v1+json', digest: d(7), size: 855 },
      'containerimage.digest': d(7),
      'image.name': 'r/api:1,r/api:latest',
    });
    expect(parseBuildxMetadata(text)).toEqual({
      digest: d(7),
      descriptor: { mediaType: 'application/vnd.oci.image.index.v1+json', digest: d(7), size: 855 },
      imageName: 'r/api:1,r/api:latest',
    });
  });

  test('single platform has a config digest', () => {
    expect(parseBuildxMetadata(JSON.stringify({ 'containerimage.config.digest': d(8), 'containerimage.digest': d(9) }))).toEqual({
      digest: d(9),
      configDigest: d(8),
    });
  });

  test('cache-only build has no image keys', () => {
    expect(parseBuildxMetadata('{"buildx.build.ref":"x"}')).toEqual({});
  });
});

describe('comparePlatforms', () => {
  test.each([
    [['linux/amd64', 'linux/arm64'], ['linux/arm64/v8', 'linux/amd64'], [], []],
    [['linux/amd64', 'linux/arm64', 'linux/s390x'], ['linux/amd64'], ['linux/arm64', 'linux/s390x'], []],
    [['linux/amd64'], ['linux/amd64', 'linux/arm/v7'], [], ['linux/arm/v7']],
  ])('%j vs %j', (declared, found, missing, extra) => {
    expect(comparePlatforms(declared, found)).toEqual({ missing, extra });
  });
});

describe('image config and OCI layout', () => {
  test('platform from image config', () => {
    expect(platformFromImageConfig('{"architecture":"arm","os":"linux","variant":"v7","config":{}}')).toBe('linux/arm/v7');
    expect(platformFromImageConfig('nope')).toBeUndefined();
  });

  test('docker save layout: index.json → image index → platforms', () => {
    const top = JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.index.v1+json',
          digest: d(7),
          size: 855,
          annotations: { 'io.containerd.image.name': '127.0.0.1:5000/api:1', 'org.opencontainers.image.ref.name': '1' },
        },
      ],
    });
    const blobs = new Map([[d(7), OCI_INDEX]]);
    expect(platformsFromOciLayout(top, blobs, '127.0.0.1:5000/api:1')).toEqual({
      manifestDigest: d(7),
      platforms: [
        { platform: 'linux/amd64', digest: d(1) },
        { platform: 'linux/arm64', digest: d(2) },
        { platform: 'linux/arm/v7', digest: d(3) },
      ],
    });
  });

  test('layout with one manifest carrying its platform', () => {
    const top = JSON.stringify({
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d(1), platform: { os: 'linux', architecture: 'amd64' } },
      ],
    });
    expect(platformsFromOciLayout(top, new Map())).toEqual({
      manifestDigest: d(1),
      platforms: [{ platform: 'linux/amd64', digest: d(1) }],
    });
  });
});

describe('oneEntryList: the bytes imagetools create writes for one manifest', () => {
  const dir = join(__dirname, '__fixtures__/imagetools-one-entry');
  const read = (name: string) => readFileSync(join(dir, name));
  const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  test.each([
    ['docker-amd64', 'application/vnd.docker.distribution.manifest.v2+json', 'linux/amd64'],
    ['docker-arm64', 'application/vnd.docker.distribution.manifest.v2+json', 'linux/arm64'],
    ['oci-armv7', 'application/vnd.oci.image.manifest.v1+json', 'linux/arm/v7'],
  ])('%s: byte for byte what buildx 0.13 pushed', (name, mediaType, platform) => {
    const bytes = read(`${name}.manifest.json`);
    const list = oneEntryList({ bytes, mediaType, digest: sha(bytes) }, JSON.parse(read(`${name}.config-platform.json`).toString()));
    const expected = read(`${name}.list.json`);
    expect(list?.bytes.toString()).toBe(expected.toString());
    expect(list?.digest).toBe(sha(expected));
    expect(list?.mediaType).toBe(JSON.parse(expected.toString()).mediaType);
    expect(list?.platform).toBe(platform);
  });

  const manifest = { bytes: Buffer.from(ONE_MANIFEST), mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d(7) };
  const platformOf = (bytes: Buffer | undefined) => bytes && JSON.parse(bytes.toString()).manifests[0].platform;
  test.each([
    [
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
      { architecture: 'arm64', os: 'linux' },
    ],
    [
      { os: 'linux', architecture: 'aarch64' },
      { architecture: 'arm64', os: 'linux' },
    ],
    [
      { os: 'linux', architecture: 'arm' },
      { architecture: 'arm', os: 'linux', variant: 'v7' },
    ],
    [
      { os: 'linux', architecture: 'amd64', variant: 'v1' },
      { architecture: 'amd64', os: 'linux' },
    ],
    [
      { os: 'Linux', architecture: 'x86_64' },
      { architecture: 'amd64', os: 'linux' },
    ],
  ])('the platform of %j is containerd-normalised: %j', (config, platform) => {
    expect(platformOf(oneEntryList(manifest, config)?.bytes)).toEqual(platform);
  });

  test.each([
    ['no os', manifest, { architecture: 'amd64' }],
    ['an architecture we do not know', manifest, { os: 'linux', architecture: 'mips128' }],
    ['an index', { ...manifest, mediaType: 'application/vnd.oci.image.index.v1+json' }, { os: 'linux', architecture: 'amd64' }],
  ])('%s: undefined (imagetools makes that one)', (_, m, config) => {
    expect(oneEntryList(m, config)).toBeUndefined();
  });
});
