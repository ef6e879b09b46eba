import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, run } from './workspace';

/**
 * A private npm registry (verdaccio) on 127.0.0.1 for the `nx add` e2e. It serves
 * what the test publishes and proxies everything else to the npm registry this
 * machine's npm is configured with (read from `npm config get registry`, never
 * written down here). Started by the test, stopped by it; loopback only.
 */
export interface LocalNpmRegistry {
  url: string;
  /** `.npmrc` lines that point npm at this registry with a publish token. */
  npmrc: string;
  stop(): Promise<void>;
}

/** The package names the registry serves only from what the test publishes. */
const LOCAL_ONLY = ['nx-compose-buildx'];

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitUntilServing(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited with ${child.exitCode} before serving`);
    try {
      const res = await fetch(`${url}-/ping`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`verdaccio did not answer on ${url} within ${timeoutMs} ms`);
}

export async function startLocalNpmRegistry(): Promise<LocalNpmRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'nxcb-verdaccio-'));
  const uplink = (await run('npm', ['config', 'get', 'registry'], { cwd: REPO_ROOT })).stdout.trim();
  if (!/^https?:\/\//.test(uplink)) throw new Error(`npm config get registry gave no URL: ${JSON.stringify(uplink)}`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const packages = [
    ...LOCAL_ONLY.map((name) => `  '${name}':\n    access: $all\n    publish: $authenticated\n`),
    `  '**':\n    access: $all\n    publish: $authenticated\n    proxy: upstream\n`,
  ].join('');
  writeFileSync(
    join(dir, 'config.yaml'),
    [
      `storage: ${join(dir, 'storage')}`,
      `auth:\n  htpasswd:\n    file: ${join(dir, 'htpasswd')}\n    max_users: 10`,
      `uplinks:\n  upstream:\n    url: ${uplink}\n    timeout: 60s\n    max_fails: 5`,
      `packages:\n${packages}`,
      `server:\n  keepAliveTimeout: 60`,
      `logs: { type: stdout, format: pretty, level: warn }`,
      `publish:\n  allow_offline: true`,
      '',
    ].join('\n'),
  );
  const bin = join(REPO_ROOT, 'node_modules/verdaccio/bin/verdaccio');
  const child = spawn(process.execPath, [bin, '--config', join(dir, 'config.yaml'), '--listen', `127.0.0.1:${port}`], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout?.on('data', (d) => (log = (log + d).slice(-4000)));
  child.stderr?.on('data', (d) => (log = (log + d).slice(-4000)));
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          r(undefined);
        }, 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          r(undefined);
        });
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilServing(url, child, 60_000);
    // Create a user the way `npm adduser` does; the answer carries the publish token.
    const user = `e2e${Date.now()}`;
    const res = await fetch(`${url}-/user/org.couchdb.user:${user}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: user, password: `pw-${user}`, type: 'user', roles: [] }),
    });
    const body = (await res.json()) as { token?: string };
    if (!res.ok || !body.token) throw new Error(`verdaccio refused the test user (${res.status})`);
    const hostPath = url.replace(/^https?:/, '');
    return { url, npmrc: `registry=${url}\n${hostPath}:_authToken=${body.token}\n`, stop };
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${log}`, { cause: error });
  }
}
