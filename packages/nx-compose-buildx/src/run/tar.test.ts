import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { indexNamingEachTag, loadOciLayout, localImageDigests, readOciLayout } from './image-save';
import { scanTar, tarDirectory } from './tar';

const d = (c: string) => `sha256:${c.repeat(64)}`;

/** An OCI layout like `docker save` writes with the containerd image store. */
async function makeLayout(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'nxcb-tar-'));
  const layout = join(dir, 'layout');
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  const index = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: d('a'),
        size: 1,
        platform: { os: 'linux', architecture: 'amd64' },
      },
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: d('b'),
        size: 1,
        platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
      },
    ],
  });
  writeFileSync(join(layout, 'blobs', 'sha256', 'c'.repeat(64)), index);
  writeFileSync(join(layout, 'blobs', 'sha256', 'f'.repeat(64)), Buffer.alloc(600 * 1024, 7)); // a "layer"
  writeFileSync(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.index.v1+json',
          digest: d('c'),
          size: index.length,
          annotations: { 'io.containerd.image.name': 'r/api:1' },
        },
      ],
    }),
  );
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await promisify(execFile)('tar', ['-cf', join(dir, 'image.tar'), '-C', layout, 'oci-layout', 'blobs', 'index.json']);
  return dir;
}

describe('scanTar', () => {
  test('keeps wanted entries across arbitrary chunking and skips the rest', async () => {
    const dir = await makeLayout();
    const tar = readFileSync(join(dir, 'image.tar'));
    for (const size of [1, 511, 512, 4096, tar.length]) {
      const kept: string[] = [];
      const s = scanTar(
        (name, bytes) => name === 'index.json' || (name.startsWith('blobs/') && bytes < 1024 * 256),
        (name) => kept.push(name),
      );
      for (let i = 0; i < tar.length; i += size) s.write(tar.subarray(i, i + size));
      const entries = await s.end();
      expect([...entries.keys()].sort()).toEqual([`blobs/sha256/${'c'.repeat(64)}`, 'index.json']);
      expect(kept.sort()).toEqual([`blobs/sha256/${'c'.repeat(64)}`, 'index.json']);
      expect(JSON.parse(entries.get('index.json')!.toString()).manifests[0].digest).toBe(d('c'));
    }
  });

  test('a cut-off archive or one that is no tar at all is refused; stop() ends reading at once', async () => {
    const dir = await makeLayout();
    const tar = readFileSync(join(dir, 'image.tar'));
    const cut = scanTar(() => true);
    cut.write(tar.subarray(0, 2048 + 100));
    await expect(cut.end()).rejects.toThrow(/Unexpected end of data/);
    const junk = scanTar(() => true);
    junk.write(Buffer.alloc(512, 'x'));
    await expect(junk.end()).rejects.toThrow(/Invalid tar header/);
    const stopped = scanTar(() => true);
    stopped.write(tar.subarray(0, 2048 + 100));
    stopped.stop();
    expect(await stopped.end()).toBe(stopped.entries);
  });
});

describe('localImageDigests (fake docker on PATH)', () => {
  const oldPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = oldPath;
  });

  test('streams docker save and reads per-platform digests', async () => {
    const dir = await makeLayout();
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(
      join(bin, 'docker'),
      `#!/bin/sh\n[ "$1" = save ] && [ "$2" = r/api:1 ] && exec cat "${join(dir, 'image.tar')}"\necho "bad args $*" >&2; exit 2\n`,
    );
    chmodSync(join(bin, 'docker'), 0o755);
    process.env.PATH = `${bin}:${oldPath}`;
    expect(await localImageDigests('r/api:1', dir)).toEqual({
      manifestDigest: d('c'),
      platforms: [
        { platform: 'linux/amd64', digest: d('a') },
        { platform: 'linux/arm64', digest: d('b') },
      ],
    });
    await expect(localImageDigests('other:1', dir)).rejects.toThrow(/docker save other:1 failed \(exit 2\): bad args/);
  });

  test('with the index digest known, the index blob alone answers and the export is stopped', async () => {
    const dir = await makeLayout();
    // A docker save that sends the index blob and then never ends: only stopping it lets the call return.
    await promisify(execFile)('tar', ['-cf', join(dir, 'head.tar'), '-C', join(dir, 'layout'), `blobs/sha256/${'c'.repeat(64)}`]);
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'docker'), `#!/bin/sh\ncat "${join(dir, 'head.tar')}"\nexec sleep 600\n`);
    chmodSync(join(bin, 'docker'), 0o755);
    process.env.PATH = `${bin}:${oldPath}`;
    expect(await localImageDigests('r/api:1', dir, undefined, d('c'))).toEqual({
      manifestDigest: d('c'),
      platforms: [
        { platform: 'linux/amd64', digest: d('a') },
        { platform: 'linux/arm64', digest: d('b') },
      ],
    });
  });
});

describe('tarDirectory and the layout a content-stable build writes', () => {
  const oldPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = oldPath;
  });
  const layoutFiles = ['blobs/sha256/' + 'c'.repeat(64), 'blobs/sha256/' + 'f'.repeat(64), 'index.json', 'oci-layout'];

  test('streams every file of the folder as a tar that GNU tar extracts byte for byte and scanTar reads', async () => {
    const dir = await makeLayout();
    // A name beyond ustar's 100 bytes: tar-stream writes it as a PAX header, which both readers follow.
    const deep = `blobs/${'d'.repeat(60)}/${'e'.repeat(60)}`;
    mkdirSync(join(dir, 'layout', dirname(deep)), { recursive: true });
    writeFileSync(join(dir, 'layout', deep), 'deep');
    const chunks: Buffer[] = [];
    for await (const c of tarDirectory(join(dir, 'layout'))) chunks.push(c as Buffer);
    const tar = Buffer.concat(chunks);
    expect(tar.length % 512).toBe(0);
    writeFileSync(join(dir, 'ours.tar'), tar);
    const out = join(dir, 'out');
    mkdirSync(out);
    await promisify(execFile)('tar', ['-xf', join(dir, 'ours.tar'), '-C', out]);
    for (const f of [...layoutFiles, deep]) expect(readFileSync(join(out, f))).toEqual(readFileSync(join(dir, 'layout', f)));
    const s = scanTar(() => true);
    s.write(tar);
    expect([...(await s.end()).keys()]).toEqual([deep, ...layoutFiles]);
    // The same folder, the same bytes: no times or owners of this machine in the archive.
    const again: Buffer[] = [];
    for await (const c of tarDirectory(join(dir, 'layout'))) again.push(c as Buffer);
    expect(Buffer.concat(again).equals(tar)).toBe(true);
  });

  test('a reader that goes away mid-file (docker load refusing) leaves no file of the folder open', async () => {
    const dir = await makeLayout();
    writeFileSync(join(dir, 'layout', 'blobs', 'a-first'), Buffer.alloc(4 * 1024 * 1024, 1)); // archived first, read in many chunks
    const tar = tarDirectory(join(dir, 'layout'));
    tar.on('error', () => {});
    await new Promise((resolve) => tar.once('data', resolve));
    tar.destroy();
    const openUnder = () =>
      readdirSync('/proc/self/fd').some((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir);
        } catch {
          return false;
        }
      });
    // up to 10 s: on a loaded machine the stream closes its file a while after the reader went away
    for (let i = 0; i < 100 && openUnder(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(openUnder()).toBe(false);
  });

  test("readOciLayout: the index digest and each platform's manifest digest; undefined when entries disagree or there is none", async () => {
    const dir = await makeLayout();
    const layout = join(dir, 'layout');
    expect(readOciLayout(layout)).toEqual({
      manifestDigest: d('c'),
      platforms: [
        { platform: 'linux/amd64', digest: d('a') },
        { platform: 'linux/arm64', digest: d('b') },
      ],
    });
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
    writeFileSync(
      join(layout, 'index.json'),
      JSON.stringify({ ...index, manifests: [...index.manifests, { ...index.manifests[0], digest: d('d') }] }),
    );
    expect(readOciLayout(layout)).toBeUndefined();
    expect(readOciLayout(join(dir, 'missing'))).toBeUndefined();
  });

  test('loadOciLayout feeds docker load the folder as a tar on stdin; a refusal comes back as the reason', async () => {
    const dir = await makeLayout();
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const got = join(dir, 'got');
    mkdirSync(got);
    writeFileSync(
      join(bin, 'docker'),
      `#!/bin/sh\n[ "$1" = load ] && [ $# = 1 ] && exec tar -xf - -C "${got}"\necho "bad args $*" >&2; exit 2\n`,
    );
    chmodSync(join(bin, 'docker'), 0o755);
    process.env.PATH = `${bin}:${oldPath}`;
    expect(await loadOciLayout(join(dir, 'layout'), [], dir)).toBeUndefined();
    for (const f of layoutFiles) expect(readFileSync(join(got, f))).toEqual(readFileSync(join(dir, 'layout', f)));
    writeFileSync(join(bin, 'docker'), '#!/bin/sh\ncat >/dev/null; echo "unsupported archive" >&2; exit 1\n');
    expect(await loadOciLayout(join(dir, 'layout'), [], dir)).toBe('docker load failed (exit 1): unsupported archive');
    // Several tags, which BuildKit joins in one entry's name: docker load gets an entry per tag.
    const index = JSON.parse(readFileSync(join(dir, 'layout', 'index.json'), 'utf8'));
    const named = { ...index.manifests[0], annotations: { 'org.opencontainers.image.ref.name': 'r/api:1,r/api:nxcb-k' } };
    writeFileSync(join(dir, 'layout', 'index.json'), JSON.stringify({ ...index, manifests: [named] }));
    writeFileSync(join(bin, 'docker'), `#!/bin/sh\nexec tar -xf - -C "${got}"\n`);
    expect(await loadOciLayout(join(dir, 'layout'), ['r/api:1', 'r/api:nxcb-k'], dir)).toBeUndefined();
    const names = JSON.parse(readFileSync(join(got, 'index.json'), 'utf8')).manifests.map(
      (m: { annotations: Record<string, string> }) => m.annotations['org.opencontainers.image.ref.name'],
    );
    expect(names).toEqual(['r/api:1', 'r/api:nxcb-k']);
    // An image built under its key tag alone: docker load gets every name given.
    expect(await loadOciLayout(join(dir, 'layout'), ['r/api:nxcb-k', 'r/api:1', 'r/api:latest'], dir)).toBeUndefined();
    expect(
      JSON.parse(readFileSync(join(got, 'index.json'), 'utf8')).manifests.map(
        (m: { annotations: Record<string, string> }) => m.annotations['org.opencontainers.image.ref.name'],
      ),
    ).toEqual(['r/api:nxcb-k', 'r/api:1', 'r/api:latest']);
    // One that refuses before reading: the tar stream stops with it, nothing hangs.
    writeFileSync(join(bin, 'docker'), '#!/bin/sh\necho "no engine" >&2; exit 1\n');
    expect(await loadOciLayout(join(dir, 'layout'), [], dir)).toBe('docker load failed (exit 1): no engine');
    // One that never ends: stopped at the limit, and the reason says how to raise it (exec's own words).
    writeFileSync(join(bin, 'docker'), '#!/bin/sh\nexec sleep 30\n');
    expect(await loadOciLayout(join(dir, 'layout'), [], dir, 300)).toMatch(
      /^docker load: `docker` did not finish within 300 ms and was stopped \(raise the limit .*NX_COMPOSE_BUILDX_TIMEOUT/,
    );
    // None on PATH: said so, with the PATH searched.
    process.env.PATH = join(dir, 'empty');
    expect(await loadOciLayout(join(dir, 'layout'), [], dir)).toMatch(/^docker load: `docker` was not found on PATH/);
  });
});

describe('indexNamingEachTag', () => {
  const entry = (name?: string) => ({
    mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
    digest: d('c'),
    ...(name === undefined ? {} : { annotations: { 'org.opencontainers.image.created': 't', 'org.opencontainers.image.ref.name': name } }),
  });
  const names = (json: string) =>
    (JSON.parse(json) as { manifests: Array<{ annotations?: Record<string, string> }> }).manifests.map(
      (m) => m.annotations?.['org.opencontainers.image.ref.name'],
    );
  test.each<[string, Array<string | undefined>, string[]]>([
    ['two tags joined in one entry (BuildKit): an entry each', ['r/a:1,r/a:latest'], ['r/a:1', 'r/a:latest']],
    ['built under its key tag alone: named by every tag given', ['r/a:nxcb-k'], ['r/a:1', 'r/a:latest', 'r/a:nxcb-k']],
    ['an unnamed entry named', [undefined], ['r/a:1']],
  ])('%s', (_, given, wanted) => {
    const json = JSON.stringify({ schemaVersion: 2, manifests: given.map(entry) });
    const out = indexNamingEachTag(json, wanted);
    expect(names(out)).toEqual(wanted);
    for (const m of JSON.parse(out).manifests) {
      expect(m).toMatchObject({ digest: d('c'), mediaType: entry().mediaType });
      if (given[0] !== undefined) expect(m.annotations['org.opencontainers.image.created']).toBe('t');
    }
  });
  test("containerd's own name annotation, which docker load would prefer, goes", () => {
    const json = JSON.stringify({
      schemaVersion: 2,
      manifests: [{ digest: d('c'), annotations: { 'io.containerd.image.name': 'r/a:old' } }],
    });
    expect(JSON.parse(indexNamingEachTag(json, ['r/a:1'])).manifests).toEqual([
      { digest: d('c'), annotations: { 'org.opencontainers.image.ref.name': 'r/a:1' } },
    ]);
  });
  test.each([
    ['no names', JSON.stringify({ schemaVersion: 2, manifests: [entry('r/a:1')] }), []],
    ['several images: each keeps its own', JSON.stringify({ schemaVersion: 2, manifests: [entry('r/a:1'), entry('r/b:1')] }), ['r/c:1']],
    ['not JSON', '{', ['r/a:1']],
  ])('%s: as it is', (_, json, given) => expect(indexNamingEachTag(json, given)).toBe(json));
});
