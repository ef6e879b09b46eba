/**
 * An in-process client of the OCI distribution API, for the few registry questions a push asks
 * many times (a manifest by tag or digest, an image config, a manifest under another tag of the
 * same repository). Each answer is what `docker buildx imagetools` would give, without starting a
 * docker CLI process per question.
 *
 * It is a fast path only: anything it does not handle the way the docker CLI would (a credential
 * store or helper for the host, a TLS error, an insecure registry other than the loopback, a
 * redirect of a manifest, an answer it does not expect) throws RegistryFallback, and the caller
 * asks the docker CLI instead. So correctness never depends on it.
 *
 *   scheme   https; plain http for localhost, 127.0.0.0/8 and ::1 (as containerd's resolver does)
 *   auth     anonymous first; on 401 the WWW-Authenticate challenge: Bearer (token endpoint, with
 *            the docker config's `auth` or `identitytoken` when it has one) or Basic
 *   secrets  credentials and tokens go in headers only, never in a URL, a log line or an error
 *   http     node:http with keep-alive agents rather than fetch: a release asks hundreds of small
 *            questions, and fetch cost about 1.5 ms of CPU each (a new connection every time)
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { MEDIA_TYPES } from '../buildx/manifest';
import { registryLocation, splitImageRef } from '../buildx/image-ref';

/** The fast path cannot answer this the way the docker CLI would: ask the CLI. */
export class RegistryFallback extends Error {
  override name = 'RegistryFallback';
}

/** What the Accept header of a manifest request lists: the OCI and Docker index and manifest types. */
export const MANIFEST_ACCEPT = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest].join(
  ', ',
);
const MANIFEST_TYPES = new Set<string>(Object.values(MEDIA_TYPES));
/** Manifests and configs are small (distribution refuses manifests over 4 MiB). */
const MAX_BYTES = 8 * 1024 * 1024;

/** `host[:port]` is a loopback address, which containerd (and so buildx) reaches over plain http. */
export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return name === 'localhost' || name === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

export interface RegistryRef {
  /** The host the API is served from (docker.io → its registry host). */
  host: string;
  /** The repository path on that host. */
  path: string;
  /** A tag or a digest. */
  reference: string;
  /** `https://host/v2/<path>` (http for a loopback host). */
  base: string;
}

/** `reg:5000/app:1.0` → its API base and reference; a reference with a digest is asked by digest. */
export function registryRefOf(ref: string): RegistryRef {
  const { tag, digest } = splitImageRef(ref);
  const { host, path } = registryLocation(ref);
  const reference = digest ?? tag ?? 'latest';
  // What goes into the URL as it is: a path, tag and digest of the forms the distribution spec allows.
  if (!host || !/^[a-z0-9]+(?:[._/-][a-z0-9]+|__|-+)*$/.test(path) || !/^(?:\w[\w.-]{0,127}|sha256:[0-9a-f]{64})$/.test(reference))
    throw new RegistryFallback(`cannot make an API address of ${ref}`);
  const scheme = isLoopbackHost(host) ? 'http' : 'https';
  return { host, path, reference, base: `${scheme}://${host}/v2/${path}` };
}

export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses a WWW-Authenticate header (RFC 7235): one or more challenges, each a scheme and
 * `name=value` or `name="quoted, value"` parameters. Scheme and parameter names are lowercased.
 */
export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const out: AuthChallenge[] = [];
  let i = 0;
  const s = header;
  const skip = (re: RegExp) => {
    while (i < s.length && re.test(s[i]!)) i++;
  };
  while (i < s.length) {
    skip(/[\s,]/);
    const start = i;
    skip(/[^\s,=]/);
    const token = s.slice(start, i);
    if (!token) break;
    skip(/\s/);
    if (s[i] === '=' && out.length) {
      // a parameter of the current challenge
      i++;
      skip(/\s/);
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i++];
        }
        i++;
      } else {
        const v = i;
        skip(/[^\s,]/);
        value = s.slice(v, i);
      }
      out[out.length - 1]!.params[token.toLowerCase()] = value;
    } else {
      out.push({ scheme: token.toLowerCase(), params: {} });
    }
  }
  return out;
}

/** What the docker config says for one host. */
export type DockerCredentials =
  | { kind: 'none' }
  /** A credential store or helper holds them: only the docker CLI can read them. */
  | { kind: 'helper' }
  | { kind: 'basic'; auth: string }
  | { kind: 'identityToken'; token: string };

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; identitytoken?: string } | undefined>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/** `https://index.docker.io/v1/` → `index.docker.io`: the host an auths key names, as the docker CLI reads it. */
function authKeyHost(key: string): string {
  return key
    .replace(/^[a-z]+:\/\//i, '')
    .split('/')[0]!
    .toLowerCase();
}

/** The docker config's credentials for `host` (pure: the config file's text, or undefined when there is none). */
export function credentialsFor(configText: string | undefined, host: string): DockerCredentials {
  if (configText === undefined) return { kind: 'none' };
  let config: DockerConfigFile;
  try {
    config = JSON.parse(configText) as DockerConfigFile;
  } catch {
    throw new RegistryFallback('the docker config is not JSON');
  }
  const names = host === 'registry-1.docker.io' ? ['index.docker.io', 'docker.io', 'registry-1.docker.io'] : [host.toLowerCase()];
  if (config.credHelpers && Object.keys(config.credHelpers).some((k) => names.includes(authKeyHost(k)))) return { kind: 'helper' };
  if (config.credsStore) return { kind: 'helper' };
  const entry = Object.entries(config.auths ?? {}).find(([k]) => names.includes(authKeyHost(k)))?.[1];
  if (entry?.identitytoken) return { kind: 'identityToken', token: entry.identitytoken };
  if (entry?.auth) return { kind: 'basic', auth: entry.auth };
  return { kind: 'none' };
}

/** The docker config file the CLI reads: $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
export function dockerConfigPath(env: Record<string, string | undefined>): string {
  return join(env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker'), 'config.json');
}

export interface Manifest {
  /** The exact bytes the registry served. */
  bytes: Buffer;
  mediaType: string;
  /** sha256 of the bytes. */
  digest: string;
}

/** What the client reads of an answer: a subset of fetch's Response, which node:http answers also give. */
export interface RegistryResponse {
  status: number;
  headers: { get(name: string): string | null };
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface RegistryRequest {
  method?: string;
  headers?: Record<string, string>;
  /** A stream is sent as it is read (a layer); it cannot be sent twice, so no auth retry follows it. */
  body?: string | Buffer | Readable;
  signal?: AbortSignal;
}

export type RegistryFetch = (url: string, init: RegistryRequest) => Promise<RegistryResponse>;

const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

/**
 * One request over node:http(s), redirects not followed, the body read whole but never more than
 * MAX_BYTES + 1 (so the caller sees that it was too long). Idle kept-alive sockets do not hold the
 * process open (Node's agent unrefs them).
 */
export const nodeFetch: RegistryFetch = (url, init) =>
  new Promise((resolve, reject) => {
    const target = new URL(url);
    const https = target.protocol === 'https:';
    const req = (https ? httpsRequest : httpRequest)(
      target,
      {
        method: init.method ?? 'GET',
        headers: init.headers ?? {},
        agent: https ? agents.https : agents.http,
        ...(init.signal ? { signal: init.signal } : {}),
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size > MAX_BYTES) return;
          size += chunk.length;
          chunks.push(chunk);
        });
        res.on('error', reject);
        res.on('end', () => {
          const bytes = Buffer.concat(chunks).subarray(0, MAX_BYTES + 1);
          resolve({
            status: res.statusCode ?? 0,
            headers: {
              get: (name) => {
                const v = res.headers[name.toLowerCase()];
                return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
              },
            },
            arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
          });
        });
      },
    );
    req.on('error', reject);
    const body = init.body;
    if (body && typeof body !== 'string' && !Buffer.isBuffer(body)) {
      body.on('error', (e) => req.destroy(e));
      body.pipe(req);
    } else req.end(body);
  });

/** A short name for why a request failed: ECONNREFUSED, TimeoutError, … (never the URL or a header). */
function failureCode(e: unknown): string {
  const { code, name, cause } = e as { code?: unknown; name?: string; cause?: { code?: unknown; name?: string } };
  if (typeof cause?.code === 'string') return cause.code;
  if (cause?.name === 'TimeoutError') return cause.name; // an aborted request: its reason
  return typeof code === 'string' && code !== 'ABORT_ERR' ? code : (name ?? 'Error');
}

export interface RegistryClientOptions {
  env: Record<string, string | undefined>;
  /** Every request is aborted after this long. */
  timeoutMs: number;
  fetch?: RegistryFetch;
  readConfig?: () => string | undefined;
}

export interface RegistryClient {
  /** The manifest or index a reference (tag or digest) names; undefined when the registry has none. */
  getManifest(ref: string): Promise<Manifest | undefined>;
  /** A blob (an image config) of the reference's repository, checked against its digest. */
  getBlob(ref: string, digest: string): Promise<Buffer>;
  /** Puts manifest bytes under `ref`'s tag, or by their digest when `ref` names one; returns their digest. */
  putManifest(ref: string, manifest: Pick<Manifest, 'bytes' | 'mediaType'>): Promise<string>;
  /** Whether the reference's repository holds this blob (HEAD). */
  hasBlob(ref: string, digest: string): Promise<boolean>;
  /** Uploads a blob into the reference's repository in one PUT (the registry checks its digest). */
  putBlob(ref: string, digest: string, size: number, open: () => Readable): Promise<void>;
  /** The same client (and its tokens) with another request timeout. */
  withTimeout(timeoutMs: number): RegistryClient;
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function readDockerConfig(env: Record<string, string | undefined>): string | undefined {
  try {
    return readFileSync(dockerConfigPath(env), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RegistryFallback('the docker config cannot be read');
  }
}

/** Environment variable: `false`/`0`/`no`/`off` makes every registry question go to the docker CLI. */
export const REGISTRY_API_ENV = 'NX_COMPOSE_BUILDX_REGISTRY_API';

export function isRegistryApiEnabled(env: Record<string, string | undefined>): boolean {
  return !/^(0|false|no|off)$/i.test(env[REGISTRY_API_ENV] ?? '');
}

export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  const tokens = new Map<string, string>(); // `${host} ${scope}` → Authorization header value
  return clientWith(options, tokens);
}

function clientWith(options: RegistryClientOptions, tokens: Map<string, string>): RegistryClient {
  const doFetch = options.fetch ?? nodeFetch;
  const readConfig = options.readConfig ?? (() => readDockerConfig(options.env));
  let config: { text: string | undefined } | undefined;
  const credentials = (host: string): DockerCredentials => credentialsFor((config ??= { text: readConfig() }).text, host);

  /** One request, bounded; network and TLS errors become a fallback (no URL query, no header in the message). */
  const send = async (url: string, init: RegistryRequest, what: string): Promise<RegistryResponse> => {
    try {
      return await doFetch(url, { ...init, signal: AbortSignal.timeout(options.timeoutMs) });
    } catch (e) {
      const cause = failureCode(e);
      throw new RegistryFallback(`${what}: ${cause}`);
    }
  };

  const body = async (res: RegistryResponse, what: string): Promise<Buffer> => {
    const length = Number(res.headers.get('content-length') ?? '0');
    if (length > MAX_BYTES) throw new RegistryFallback(`${what}: ${length} bytes is more than a manifest or config`);
    const bytes = Buffer.from(await res.arrayBuffer());
    if (bytes.length > MAX_BYTES) throw new RegistryFallback(`${what}: more bytes than a manifest or config`);
    return bytes;
  };

  /** The Authorization header for a challenge, fetching a token when it is Bearer; undefined: cannot answer it. */
  const authorize = async (r: RegistryRef, res: RegistryResponse, actions: string): Promise<string> => {
    const challenges = parseWwwAuthenticate(res.headers.get('www-authenticate') ?? '');
    const creds = credentials(r.host);
    if (creds.kind === 'helper') throw new RegistryFallback(`${r.host} wants credentials from a docker credential helper`);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer?.params.realm) {
      const scope = `repository:${r.path}:${actions}`;
      const cacheKey = `${r.host} ${scope}`;
      const cached = tokens.get(cacheKey);
      if (cached) return cached;
      const realm = new URL(bearer.params.realm);
      if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && isLoopbackHost(realm.host)))
        throw new RegistryFallback(`${r.host}: a token endpoint that is not https`);
      let tokenRes: RegistryResponse;
      if (creds.kind === 'identityToken') {
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.token, client_id: 'docker', scope });
        if (bearer.params.service) form.set('service', bearer.params.service);
        tokenRes = await send(
          realm.href,
          { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() },
          `${r.host} token`,
        );
      } else {
        if (bearer.params.service) realm.searchParams.set('service', bearer.params.service);
        realm.searchParams.set('scope', scope);
        tokenRes = await send(
          realm.href,
          { method: 'GET', headers: creds.kind === 'basic' ? { Authorization: `Basic ${creds.auth}` } : {} },
          `${r.host} token`,
        );
      }
      if (tokenRes.status !== 200) throw new RegistryFallback(`${r.host}: the token endpoint answered ${tokenRes.status}`);
      let token: string | undefined;
      try {
        const j = JSON.parse((await body(tokenRes, `${r.host} token`)).toString('utf8')) as { token?: string; access_token?: string };
        token = j.token || j.access_token;
      } catch {
        token = undefined;
      }
      if (!token) throw new RegistryFallback(`${r.host}: the token endpoint gave no token`);
      const header = `Bearer ${token}`;
      tokens.set(cacheKey, header);
      return header;
    }
    if (challenges.some((c) => c.scheme === 'basic') && creds.kind === 'basic') {
      const header = `Basic ${creds.auth}`;
      tokens.set(`${r.host} basic`, header);
      return header;
    }
    throw new RegistryFallback(`${r.host} asks for credentials this client does not have`);
  };

  /** The Authorization header this client already holds for these actions on the repository, if any. */
  const knownAuth = (r: RegistryRef, actions: string) =>
    tokens.get(`${r.host} repository:${r.path}:${actions}`) ?? tokens.get(`${r.host} basic`);

  /** A request with the auth dance: anonymous (or a token this client already holds), then once more after a 401. */
  const request = async (r: RegistryRef, url: string, init: RegistryRequest, actions: string, what: string): Promise<RegistryResponse> => {
    const known = knownAuth(r, actions);
    const headers = (auth?: string) => ({ ...init.headers, ...(auth ? { Authorization: auth } : {}) });
    let res = await send(url, { ...init, headers: headers(known) }, what);
    if (res.status === 401) {
      await res.arrayBuffer().catch(() => undefined);
      res = await send(url, { ...init, headers: headers(await authorize(r, res, actions)) }, what);
    }
    return res;
  };

  const client: RegistryClient = {
    async getManifest(ref) {
      const r = registryRefOf(ref);
      const what = `GET manifest ${r.host}/${r.path}`;
      const res = await request(r, `${r.base}/manifests/${r.reference}`, { headers: { Accept: MANIFEST_ACCEPT } }, 'pull', what);
      if (res.status === 404) {
        await res.arrayBuffer().catch(() => undefined);
        return undefined;
      }
      if (res.status !== 200) throw new RegistryFallback(`${what}: HTTP ${res.status}`);
      const bytes = await body(res, what);
      const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
      if (!MANIFEST_TYPES.has(mediaType)) throw new RegistryFallback(`${what}: media type ${mediaType || 'none'}`);
      const digest = sha256(bytes);
      const served = res.headers.get('docker-content-digest');
      if (served && served !== digest)
        throw new RegistryFallback(`${what}: Docker-Content-Digest ${served} is not the digest of its bytes`);
      if (r.reference.startsWith('sha256:') && r.reference !== digest)
        throw new RegistryFallback(`${what}: the bytes do not have the digest asked for`);
      return { bytes, mediaType, digest };
    },

    async getBlob(ref, digest) {
      const r = registryRefOf(ref);
      const what = `GET blob ${r.host}/${r.path}`;
      if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new RegistryFallback(`${what}: digest ${digest} is not sha256`);
      const url = `${r.base}/blobs/${digest}`;
      let res = await request(r, url, {}, 'pull', what);
      if ([301, 302, 303, 307, 308].includes(res.status)) {
        // Registries serve blobs from storage elsewhere: follow once, with no credentials for another origin.
        const location = res.headers.get('location');
        if (!location) throw new RegistryFallback(`${what}: a redirect without a location`);
        const to = new URL(location, url);
        if (to.protocol !== 'https:' && !(to.protocol === 'http:' && isLoopbackHost(to.host)))
          throw new RegistryFallback(`${what}: a redirect to plain http`);
        res = await send(to.href, {}, what);
      }
      if (res.status !== 200) throw new RegistryFallback(`${what}: HTTP ${res.status}`);
      const bytes = await body(res, what);
      if (sha256(bytes) !== digest) throw new RegistryFallback(`${what}: the bytes do not have the digest asked for`);
      return bytes;
    },

    async putManifest(ref, manifest) {
      const r = registryRefOf(ref);
      const what = `PUT manifest ${r.host}/${r.path}`;
      if (r.reference.startsWith('sha256:') && r.reference !== sha256(manifest.bytes))
        throw new RegistryFallback(`${what}: the bytes do not have the digest named`);
      const res = await request(
        r,
        `${r.base}/manifests/${r.reference}`,
        { method: 'PUT', headers: { 'Content-Type': manifest.mediaType }, body: manifest.bytes },
        'pull,push',
        what,
      );
      await res.arrayBuffer().catch(() => undefined);
      if (res.status !== 201 && res.status !== 200) throw new RegistryFallback(`${what}: HTTP ${res.status}`);
      const digest = sha256(manifest.bytes);
      const served = res.headers.get('docker-content-digest');
      if (served && served !== digest) throw new RegistryFallback(`${what}: the registry stored ${served}, not ${digest}`);
      return digest;
    },

    async hasBlob(ref, digest) {
      const r = registryRefOf(ref);
      const what = `HEAD blob ${r.host}/${r.path}`;
      if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new RegistryFallback(`${what}: digest ${digest} is not sha256`);
      // Asked with push rights: the upload that follows uses the same token.
      const res = await request(r, `${r.base}/blobs/${digest}`, { method: 'HEAD' }, 'pull,push', what);
      await res.arrayBuffer().catch(() => undefined);
      if (res.status === 200) return true;
      if (res.status === 404) return false;
      throw new RegistryFallback(`${what}: HTTP ${res.status}`);
    },

    async putBlob(ref, digest, size, open) {
      const r = registryRefOf(ref);
      const what = `upload blob ${r.host}/${r.path}`;
      if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new RegistryFallback(`${what}: digest ${digest} is not sha256`);
      const started = await request(
        r,
        `${r.base}/blobs/uploads/`,
        { method: 'POST', headers: { 'Content-Length': '0' } },
        'pull,push',
        what,
      );
      await started.arrayBuffer().catch(() => undefined);
      const location = started.headers.get('location');
      if (started.status !== 202 || !location) throw new RegistryFallback(`${what}: HTTP ${started.status}`);
      const upload = new URL(location, r.base);
      if (upload.origin !== new URL(r.base).origin) throw new RegistryFallback(`${what}: the upload goes to another host`);
      upload.searchParams.set('digest', digest);
      const auth = knownAuth(r, 'pull,push');
      const res = await send(
        upload.href,
        {
          method: 'PUT',
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size), ...(auth ? { Authorization: auth } : {}) },
          body: open(),
        },
        what,
      );
      await res.arrayBuffer().catch(() => undefined);
      if (res.status !== 201) throw new RegistryFallback(`${what}: HTTP ${res.status}`);
      const stored = res.headers.get('docker-content-digest');
      if (stored && stored !== digest) throw new RegistryFallback(`${what}: the registry stored ${stored}, not ${digest}`);
    },

    withTimeout(timeoutMs) {
      return clientWith({ ...options, timeoutMs }, tokens);
    },
  };
  return client;
}
