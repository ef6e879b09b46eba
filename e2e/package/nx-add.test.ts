import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalNpmRegistry, type LocalNpmRegistry } from '../support/verdaccio';
import { REPO_ROOT, nxEnv, run } from '../support/workspace';

/**
 * What a new user does: `npx nx add nx-compose-buildx` in a fresh Nx 24 workspace.
 * The packed tarball is published to a private registry on 127.0.0.1 (which proxies
 * every other package), a fresh Nx workspace is installed through it, and
 * `nx add` installs the plugin from that registry and runs its init generator.
 */
describe('nx add nx-compose-buildx from a registry', () => {
  let registry: LocalNpmRegistry;
  let scratch: string;
  let ws: string;
  const npmEnv = () => ({
    ...nxEnv(),
    npm_config_userconfig: join(scratch, '.npmrc'),
    npm_config_cache: join(scratch, 'npm-cache'),
    npm_config_update_notifier: 'false',
  });
  const write = (path: string, content: string) => {
    mkdirSync(dirname(join(ws, path)), { recursive: true });
    writeFileSync(join(ws, path), content);
  };
  const nx = (args: string[]) => run('npx', ['nx', ...args], { cwd: ws, env: npmEnv(), timeoutMs: 600_000 });

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'nxcb-nx-add-'));
    registry = await startLocalNpmRegistry();
    writeFileSync(join(scratch, '.npmrc'), registry.npmrc);

    const pack = await run('npm', ['pack', '--pack-destination', scratch, join(REPO_ROOT, 'packages/nx-compose-buildx')], {
      cwd: REPO_ROOT,
    });
    expect(pack.status, pack.stderr).toBe(0);
    const tarball = readdirSync(scratch).find((f) => f.endsWith('.tgz'))!;
    const publish = await run('npm', ['publish', join(scratch, tarball), '--registry', registry.url], { cwd: scratch, env: npmEnv() });
    expect(publish.status, `${publish.stdout}${publish.stderr}`).toBe(0);

    const nxVersion = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules/nx/package.json'), 'utf-8')).version as string;
    // create-nx-workspace 24 is not published where these machines can reach, so the
    // fresh workspace is what it would write for the npm preset: a package.json with
    // nx, an nx.json, installed through the private registry.
    ws = join(scratch, 'fresh');
    write(
      'package.json',
      JSON.stringify(
        { name: 'fresh', version: '0.0.0', private: true, workspaces: ['packages/*'], devDependencies: { nx: nxVersion } },
        null,
        2,
      ),
    );
    write('nx.json', JSON.stringify({ $schema: './node_modules/nx/schemas/nx-schema.json' }, null, 2));
    write('.gitignore', 'node_modules\n.nx\ndist\n');
    const install = await run('npm', ['install', '--no-audit', '--no-fund'], { cwd: ws, env: npmEnv(), timeoutMs: 600_000 });
    expect(install.status, `${install.stdout}${install.stderr}`).toBe(0);
  }, 900_000);

  afterAll(async () => {
    await registry?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('installs the published plugin, registers it, and infers a compose service', async () => {
    const add = await nx(['add', 'nx-compose-buildx']);
    expect(add.status, `${add.stdout}${add.stderr}`).toBe(0);

    const pkg = JSON.parse(readFileSync(join(ws, 'package.json'), 'utf-8'));
    expect({ ...pkg.dependencies, ...pkg.devDependencies }).toHaveProperty('nx-compose-buildx');
    const installed = JSON.parse(readFileSync(join(ws, 'node_modules/nx-compose-buildx/package.json'), 'utf-8'));
    const ours = JSON.parse(readFileSync(join(REPO_ROOT, 'packages/nx-compose-buildx/package.json'), 'utf-8'));
    expect(installed.version).toBe(ours.version);

    const nxJson = JSON.parse(readFileSync(join(ws, 'nx.json'), 'utf-8'));
    const registered = (nxJson.plugins ?? []).map((p: string | { plugin: string }) => (typeof p === 'string' ? p : p.plugin));
    expect(registered).toContain('nx-compose-buildx');
    expect(nxJson.sync?.globalGenerators).toContain('nx-compose-buildx:sync');

    write(
      'compose.yaml',
      'services:\n  hello:\n    image: 127.0.0.1:5000/nx-add/hello:1\n    build:\n      context: ./hello\n      platforms: [linux/amd64, linux/arm64]\n',
    );
    write('hello/Dockerfile', 'FROM scratch\nCOPY hello.txt /\n');
    write('hello/hello.txt', 'hi\n');
    const shown = await nx(['show', 'projects', '--json']);
    expect(shown.status, `${shown.stdout}${shown.stderr}`).toBe(0);
    expect(JSON.parse(shown.stdout.slice(shown.stdout.indexOf('[')))).toContain('hello');

    const project = await nx(['show', 'project', 'hello', '--json']);
    expect(project.status, project.stderr).toBe(0);
    expect(Object.keys(JSON.parse(project.stdout).targets)).toEqual(
      expect.arrayContaining(['docker-build', 'docker-push', 'docker-verify']),
    );
  });
});
