import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { MEDIA_TYPES } from '../buildx/manifest';
import { pushOciLayout, readLayoutImage } from './layout-push';
import { RegistryFallback, createRegistryClient } from './registry-http';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A layout as BuildKit's OCI exporter writes it with Docker media types: index.json → a list → two manifests. */
function writeLayout(dir: string, { dropLayer = false } = {}) {
  const blobs = new Map<string, Buffer>();
  const put = (b: Buffer) => (blobs.set(sha(b), b), sha(b));
  const base = Buffer.from('base layer, shared by both platforms');
  const manifests = ['amd64', 'arm64'].map((arch) => {
    const config = Buffer.from(JSON.stringify({ architecture: arch, os: 'linux' }));
    const layer = Buffer.from(`app layer for ${arch}`);
    const m = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.dockerManifest,
        config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: put(config), size: config.length },
        layers: [base, layer].map((l) => ({
          mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
          digest: put(l),
          size: l.length,
        })),
      }),
    );
    return { digest: put(m), size: m.length, arch, layer };
  });
  const list = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.dockerList,
      manifests: manifests.map((m) => ({
        mediaType: MEDIA_TYPES.dockerManifest,
        digest: m.digest,
        size: m.size,
        platform: { os: 'linux', architecture: m.arch },
      })),
    }),
  );
  const top = put(list);
  if (dropLayer) blobs.delete(sha(manifests[1]!.layer));
  mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
  for (const [digest, bytes] of blobs) writeFileSync(join(dir, 'blobs/sha256', digest.slice(7)), bytes);
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MEDIA_TYPES.dockerList, digest: top, size: list.length }] }),
  );
  return { top, list, blobCount: 5, manifestDigests: manifests.map((m) => m.digest) };
}

/** A registry in memory: blobs by repository (HEAD, POST + PUT upload), manifests by repository and reference. */
function memoryRegistry() {
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, Buffer>();
  const log: string[] = [];
  let failUploads = false;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://x');
      const body = Buffer.concat(chunks);
      log.push(`${req.method} ${url.pathname}`);
      let m = /^\/v2\/(.+)\/blobs\/uploads\/(\w*)$/.exec(url.pathname);
      if (m && req.method === 'POST') return void res.writeHead(202, { Location: `/v2/${m[1]}/blobs/uploads/u1` }).end();
      if (m && req.method === 'PUT') {
        const digest = url.searchParams.get('digest')!;
        if (failUploads) return void res.writeHead(500).end();
        if (sha(body) !== digest) return void res.writeHead(400).end();
        blobs.set(`${m[1]}@${digest}`, body);
        return void res.writeHead(201, { 'Docker-Content-Digest': digest }).end();
      }
      m = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
      if (m) return void res.writeHead(blobs.has(`${m[1]}@${m[2]}`) ? 200 : 404).end();
      m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
      if (m && req.method === 'PUT') {
        manifests.set(`${m[1]}:${decodeURIComponent(m[2]!)}`, body);
        return void res.writeHead(201, { 'Docker-Content-Digest': sha(body) }).end();
      }
      return void res.writeHead(404).end();
    });
  };
  return {
    handler,
    blobs,
    manifests,
    log,
    failUploads: (v: boolean) => (failUploads = v),
  };
}

describe('pushOciLayout against a registry in memory', () => {
  const reg = memoryRegistry();
  let server: Server;
  let host: string;
  let dir: string;
  beforeAll(async () => {
    server = createServer(reg.handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nxcb-layout-'));
    reg.blobs.clear();
    reg.manifests.clear();
    reg.log.length = 0;
    reg.failUploads(false);
    return () => rmSync(dir, { recursive: true, force: true });
  });
  const client = () => createRegistryClient({ env: {}, timeoutMs: 5000, readConfig: () => undefined });

  test('blobs first, each platform manifest by digest, then the list under every tag with its own bytes; a second push uploads nothing', async () => {
    const layout = writeLayout(dir);
    const tags = [`${host}/shop/api:1.0`, `${host}/shop/api:latest`];
    expect(await pushOciLayout(client(), dir, tags)).toEqual({ digest: layout.top, uploaded: 5, blobs: 5 });
    expect(reg.manifests.get('shop/api:1.0')).toEqual(layout.list);
    expect(reg.manifests.get('shop/api:latest')).toEqual(layout.list);
    for (const d of layout.manifestDigests) expect(reg.manifests.has(`shop/api:${d}`)).toBe(true);
    const firstManifestPut = reg.log.findIndex((l) => l.startsWith('PUT /v2/shop/api/manifests/'));
    const lastBlobPut = reg.log.map((l) => l.startsWith('PUT /v2/shop/api/blobs/')).lastIndexOf(true);
    expect(lastBlobPut).toBeLessThan(firstManifestPut);
    expect(reg.log.filter((l) => l.startsWith('PUT /v2/shop/api/manifests/')).slice(-2)).toEqual([
      'PUT /v2/shop/api/manifests/1.0',
      'PUT /v2/shop/api/manifests/latest',
    ]);
    expect(await pushOciLayout(client(), dir, tags)).toEqual({ digest: layout.top, uploaded: 0, blobs: 5 });
  });

  test('tags in two repositories: each gets every blob and manifest', async () => {
    writeLayout(dir);
    const r = await pushOciLayout(client(), dir, [`${host}/shop/api:1.0`, `${host}/mirror/api:1.0`]);
    expect(r).toMatchObject({ uploaded: 10, blobs: 10 });
    expect(reg.manifests.has('mirror/api:1.0')).toBe(true);
  });

  test('a layout that lacks a blob it names is not pushed at all: the caller republishes with buildx', async () => {
    writeLayout(dir, { dropLayer: true });
    expect(() => readLayoutImage(dir)).toThrow(RegistryFallback);
    await expect(pushOciLayout(client(), dir, [`${host}/shop/api:1.0`])).rejects.toThrow(/the layout has no blob/);
    expect(reg.log).toEqual([]);
  });

  test('an upload the registry refuses is a fallback, and no tag names the image', async () => {
    writeLayout(dir);
    reg.failUploads(true);
    await expect(pushOciLayout(client(), dir, [`${host}/shop/api:1.0`])).rejects.toThrow(RegistryFallback);
    expect(reg.manifests.has('shop/api:1.0')).toBe(false);
  });
});
