import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  MANIFEST_ACCEPT,
  RegistryFallback,
  createRegistryClient,
  credentialsFor,
  dockerConfigPath,
  isLoopbackHost,
  isRegistryApiEnabled,
  parseWwwAuthenticate,
  registryRefOf,
} from './registry-http';

describe('registry API: pure parts', () => {
  test.each([
    ['localhost', true],
    ['localhost:5000', true],
    ['127.0.0.1:5000', true],
    ['127.10.0.3', true],
    ['[::1]:5000', true],
    ['128.0.0.1:5000', false],
    ['127.0.0.1.example.com', false],
    ['registry.example.com', false],
    ['10.0.0.1:5000', false],
  ])('%s is loopback: %s', (host, want) => expect(isLoopbackHost(host)).toBe(want));

  test.each([
    [
      '127.0.0.1:5000/shop/api:1.0',
      { host: '127.0.0.1:5000', path: 'shop/api', reference: '1.0', base: 'http://127.0.0.1:5000/v2/shop/api' },
    ],
    [
      '127.0.0.1:5000/shop/api',
      { host: '127.0.0.1:5000', path: 'shop/api', reference: 'latest', base: 'http://127.0.0.1:5000/v2/shop/api' },
    ],
    [
      `reg.example.com/a/b@sha256:${'1'.repeat(64)}`,
      { host: 'reg.example.com', path: 'a/b', reference: `sha256:${'1'.repeat(64)}`, base: 'https://reg.example.com/v2/a/b' },
    ],
    [
      'busybox',
      {
        host: 'registry-1.docker.io',
        path: 'library/busybox',
        reference: 'latest',
        base: 'https://registry-1.docker.io/v2/library/busybox',
      },
    ],
    ['localhost:5000/x:nxcb-k', { host: 'localhost:5000', path: 'x', reference: 'nxcb-k', base: 'http://localhost:5000/v2/x' }],
  ])('%s → %j', (ref, want) => expect(registryRefOf(ref)).toEqual(want));

  test.each([
    '127.0.0.1:5000/a?b:1',
    '127.0.0.1:5000/A/b:1',
    '127.0.0.1:5000/a:t%2F',
    '127.0.0.1:5000/a@md5:00',
    '127.0.0.1:5000/a/../b:1',
  ])('%s makes no API address: the CLI is asked', (ref) => expect(() => registryRefOf(ref)).toThrow(RegistryFallback));

  test.each([
    [
      'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push"',
      [
        {
          scheme: 'bearer',
          params: { realm: 'https://auth.example.com/token', service: 'registry.example.com', scope: 'repository:a/b:pull,push' },
        },
      ],
    ],
    ['Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
    [
      'Basic realm=simple, Bearer realm="https://t/x", service=s',
      [
        { scheme: 'basic', params: { realm: 'simple' } },
        { scheme: 'bearer', params: { realm: 'https://t/x', service: 's' } },
      ],
    ],
    ['Bearer realm="a \\"quoted\\" realm"', [{ scheme: 'bearer', params: { realm: 'a "quoted" realm' } }]],
    ['', []],
  ])('WWW-Authenticate %s', (header, want) => expect(parseWwwAuthenticate(header)).toEqual(want));

  test.each([
    ['no config file', undefined, 'reg.example.com', { kind: 'none' }],
    [
      'an auth entry',
      JSON.stringify({ auths: { 'reg.example.com': { auth: 'dTpw' } } }),
      'reg.example.com',
      { kind: 'basic', auth: 'dTpw' },
    ],
    [
      'an auth entry written as a URL',
      JSON.stringify({ auths: { 'https://reg.example.com/v1/': { auth: 'dTpw' } } }),
      'reg.example.com',
      { kind: 'basic', auth: 'dTpw' },
    ],
    [
      "docker.io's key",
      JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: 'dTpw' } } }),
      'registry-1.docker.io',
      { kind: 'basic', auth: 'dTpw' },
    ],
    [
      'an identity token',
      JSON.stringify({ auths: { 'reg.example.com': { identitytoken: 'tok' } } }),
      'reg.example.com',
      { kind: 'identityToken', token: 'tok' },
    ],
    ['another host only', JSON.stringify({ auths: { 'other.example.com': { auth: 'dTpw' } } }), 'reg.example.com', { kind: 'none' }],
    [
      'a credential store',
      JSON.stringify({ credsStore: 'desktop', auths: { 'reg.example.com': {} } }),
      'reg.example.com',
      { kind: 'helper' },
    ],
    ['a helper for the host', JSON.stringify({ credHelpers: { 'reg.example.com': 'ecr-login' } }), 'reg.example.com', { kind: 'helper' }],
    [
      'a helper for another host',
      JSON.stringify({ credHelpers: { 'other.example.com': 'ecr-login' } }),
      'reg.example.com',
      { kind: 'none' },
    ],
  ])('docker config: %s', (_, text, host, want) => expect(credentialsFor(text, host)).toEqual(want));

  test('a docker config that is not JSON: the CLI is asked', () => {
    expect(() => credentialsFor('{', 'reg.example.com')).toThrow(RegistryFallback);
  });

  test.each([
    [{ DOCKER_CONFIG: '/cfg' }, '/cfg/config.json'],
    [{ HOME: '/home/u' }, '/home/u/.docker/config.json'],
  ])('docker config path for %j', (env, want) => expect(dockerConfigPath(env)).toBe(want));

  test.each([
    [{}, true],
    [{ NX_COMPOSE_BUILDX_REGISTRY_API: 'false' }, false],
    [{ NX_COMPOSE_BUILDX_REGISTRY_API: '0' }, false],
    [{ NX_COMPOSE_BUILDX_REGISTRY_API: '1' }, true],
  ])('registry API with %j: %s', (env, want) => expect(isRegistryApiEnabled(env)).toBe(want));
});

// ---- the HTTP part, against a tiny registry in this process ----------------------------------------

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const INDEX_TYPE = 'application/vnd.oci.image.index.v1+json';
const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
const manifest = Buffer.from(
  JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { digest: sha(config) } }),
);
const index = Buffer.from(
  JSON.stringify(
    { schemaVersion: 2, mediaType: INDEX_TYPE, manifests: [{ digest: sha(manifest), platform: { os: 'linux', architecture: 'amd64' } }] },
    null,
    2,
  ),
);

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  accept?: string;
  contentType?: string;
  body?: Buffer;
}

/** Repository `open/*` needs nothing; `bearer/*` a token from /token (given for Basic u:p); `basic/*` Basic u:p. */
function tinyRegistry(seen: Seen[]): (req: IncomingMessage, res: ServerResponse) => void {
  const manifests = new Map<string, { bytes: Buffer; type: string }>();
  for (const repo of ['open/app', 'bearer/app', 'basic/app']) {
    manifests.set(`${repo}:latest`, { bytes: index, type: INDEX_TYPE });
    manifests.set(`${repo}:${sha(index)}`, { bytes: index, type: INDEX_TYPE });
    manifests.set(`${repo}:${sha(manifest)}`, { bytes: manifest, type: 'application/vnd.oci.image.manifest.v1+json' });
  }
  manifests.set('open/app:lying', { bytes: index, type: INDEX_TYPE });
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://x');
      seen.push({
        method: req.method!,
        url: req.url!,
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        ...(req.headers.accept ? { accept: req.headers.accept } : {}),
        ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
        ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
      });
      const host = req.headers.host!;
      if (url.pathname === '/token') {
        if (req.headers.authorization !== `Basic ${Buffer.from('u:p').toString('base64')}`) return void res.writeHead(401).end();
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: `tok-${url.searchParams.get('scope')}` }));
        return;
      }
      const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
      if (!m) return void res.writeHead(404).end();
      const [, repo, kind, ref] = m as unknown as [string, string, string, string];
      if (repo.startsWith('bearer/') && !req.headers.authorization?.startsWith('Bearer tok-repository:bearer/app:')) {
        res
          .writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://${host}/token",service="tiny",scope="repository:${repo}:pull"` })
          .end();
        return;
      }
      if (repo.startsWith('basic/') && req.headers.authorization !== `Basic ${Buffer.from('u:p').toString('base64')}`) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="tiny"' }).end();
        return;
      }
      if (repo === 'open/redirect') return void res.writeHead(307, { Location: `http://${host}/elsewhere` }).end();
      if (kind === 'blobs') {
        if (ref === sha(config)) return void res.writeHead(200).end(config);
        if (ref === `sha256:${'e'.repeat(64)}`) return void res.writeHead(307, { Location: `/v2/open/app/blobs/${sha(config)}` }).end();
        return void res.writeHead(404).end();
      }
      if (req.method === 'PUT') {
        manifests.set(`${repo}:${decodeURIComponent(ref)}`, { bytes: Buffer.concat(chunks), type: String(req.headers['content-type']) });
        return void res.writeHead(201, { 'Docker-Content-Digest': sha(Buffer.concat(chunks)) }).end();
      }
      const found = manifests.get(`${repo}:${decodeURIComponent(ref)}`);
      if (!found) return void res.writeHead(404).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
      const digest = ref === 'lying' ? sha('other') : sha(found.bytes);
      res.writeHead(200, { 'Content-Type': found.type, 'Docker-Content-Digest': digest }).end(found.bytes);
    });
  };
}

describe('registry API: HTTP against a tiny registry', () => {
  let server: Server;
  let host: string;
  const seen: Seen[] = [];
  const auth = JSON.stringify({ auths: { [`localhost:0`]: {} } });
  beforeAll(async () => {
    server = createServer(tinyRegistry(seen));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  const client = (configText: string | undefined = undefined) =>
    createRegistryClient({ env: {}, timeoutMs: 5000, readConfig: () => configText });
  const withCreds = () => JSON.stringify({ auths: { [host]: { auth: Buffer.from('u:p').toString('base64') } } });

  test('a manifest by tag: the exact bytes, their media type and digest, asked with every manifest type', async () => {
    seen.length = 0;
    const m = await client(auth).getManifest(`${host}/open/app:latest`);
    expect(m).toEqual({ bytes: index, mediaType: INDEX_TYPE, digest: sha(index) });
    expect(seen).toEqual([{ method: 'GET', url: '/v2/open/app/manifests/latest', accept: MANIFEST_ACCEPT }]);
  });

  test('a manifest by digest, and none: undefined', async () => {
    const c = client();
    expect((await c.getManifest(`${host}/open/app@${sha(manifest)}`))?.bytes).toEqual(manifest);
    expect(await c.getManifest(`${host}/open/app:missing`)).toBeUndefined();
  });

  test('a Docker-Content-Digest that is not the digest of the bytes: the CLI is asked', async () => {
    await expect(client().getManifest(`${host}/open/app:lying`)).rejects.toThrow(RegistryFallback);
  });

  test('a blob, checked against its digest; a redirect is followed once', async () => {
    const c = client();
    expect(await c.getBlob(`${host}/open/app`, sha(config))).toEqual(config);
    await expect(c.getBlob(`${host}/open/app`, `sha256:${'e'.repeat(64)}`)).rejects.toThrow(/do not have the digest/);
  });

  test('a manifest put under another tag: same bytes, its media type, the digest the registry reports', async () => {
    seen.length = 0;
    const c = client();
    const m = (await c.getManifest(`${host}/open/app:latest`))!;
    expect(await c.putManifest(`${host}/open/app:v2`, m)).toBe(sha(index));
    expect(seen[1]).toMatchObject({ method: 'PUT', url: '/v2/open/app/manifests/v2', contentType: INDEX_TYPE, body: index });
    expect((await c.getManifest(`${host}/open/app:v2`))?.digest).toBe(sha(index));
    // by digest only the bytes' own (a platform manifest before its index): any other is refused unsent
    await expect(c.putManifest(`${host}/open/app@${sha(manifest)}`, m)).rejects.toThrow(/do not have the digest named/);
  });

  test('Bearer: anonymous first, then a token for the repository (Basic credentials from the docker config), kept for later requests', async () => {
    seen.length = 0;
    const c = client(withCreds());
    expect((await c.getManifest(`${host}/bearer/app:latest`))?.digest).toBe(sha(index));
    expect((await c.getManifest(`${host}/bearer/app@${sha(manifest)}`))?.bytes).toEqual(manifest);
    expect(seen.map((s) => `${s.method} ${s.url.replace(/\?.*/, '')} ${s.authorization ?? '-'}`)).toEqual([
      'GET /v2/bearer/app/manifests/latest -',
      `GET /token Basic ${Buffer.from('u:p').toString('base64')}`,
      'GET /v2/bearer/app/manifests/latest Bearer tok-repository:bearer/app:pull',
      `GET /v2/bearer/app/manifests/${sha(manifest)} Bearer tok-repository:bearer/app:pull`,
    ]);
    expect(new URL(seen[1]!.url, 'http://x').searchParams.get('service')).toBe('tiny');
  });

  test('Basic: the docker config credentials after a 401', async () => {
    expect((await client(withCreds()).getManifest(`${host}/basic/app:latest`))?.digest).toBe(sha(index));
  });

  test.each([
    ['no credentials', undefined],
    ['a credential helper', JSON.stringify({ credsStore: 'desktop' })],
  ])('a 401 with %s: the CLI is asked, and no secret is in the message', async (_, text) => {
    const e = await client(text)
      .getManifest(`${host}/basic/app:latest`)
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RegistryFallback);
    expect(String(e)).not.toMatch(/dTpw|u:p/);
  });

  test('a token endpoint refusing the credentials: the CLI is asked, the message holds no credential', async () => {
    const wrong = JSON.stringify({ auths: { [host]: { auth: Buffer.from('u:wrong').toString('base64') } } });
    const e = await client(wrong)
      .getManifest(`${host}/bearer/app:latest`)
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RegistryFallback);
    expect(String(e)).toMatch(/token endpoint answered 401/);
    expect(String(e)).not.toContain(Buffer.from('u:wrong').toString('base64'));
  });

  test('a redirect of a manifest is not followed: the CLI is asked', async () => {
    await expect(client().getManifest(`${host}/open/redirect:latest`)).rejects.toThrow(/HTTP 307/);
  });

  test('nothing listening, or no answer in time: the CLI is asked', async () => {
    await expect(client().getManifest('127.0.0.1:1/x:latest')).rejects.toThrow(RegistryFallback);
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const slow = createRegistryClient({ env: {}, timeoutMs: 50, readConfig: () => undefined });
    await expect(slow.getManifest(`127.0.0.1:${(silent.address() as AddressInfo).port}/x:latest`)).rejects.toThrow(/TimeoutError/);
    silent.closeAllConnections();
    await new Promise<void>((r) => silent.close(() => r()));
  });
});
