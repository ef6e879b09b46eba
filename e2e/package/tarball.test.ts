import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, nxEnv, run } from '../support/workspace';

/**
 * The published shape: `npm pack` the plugin, install the tarball with Nx 24
 * into an empty folder, register it (string and {plugin, options} forms) and
 * read the inferred projects. Nothing else from this repo is used.
 */
describe('npm pack tarball in a fresh Nx 24 workspace', () => {
  let dir: string;
  const write = (path: string, content: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  };
  const nx = (args: string[]) => run(process.execPath, [join(dir, 'node_modules/nx/dist/bin/nx.js'), ...args], { cwd: dir, env: nxEnv() });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nxcb-tarball-'));
    const pack = await run('npm', ['pack', '--pack-destination', dir, join(REPO_ROOT, 'packages/nx-compose-buildx')], { cwd: REPO_ROOT });
    expect(pack.status, pack.stderr).toBe(0);
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    write('package.json', JSON.stringify({ name: 'fresh', private: true }));
    const nxVersion = JSON.parse(
      (await run('node', ['-p', 'JSON.stringify(require("nx/package.json").version)'], { cwd: REPO_ROOT })).stdout,
    );
    const install = await run('npm', ['install', '--no-audit', '--no-fund', `nx@${nxVersion}`, `./${tarball}`], { cwd: dir });
    expect(install.status, install.stderr).toBe(0);
    write(
      'compose.yaml',
      'services:\n  hello:\n    image: 127.0.0.1:5000/fresh/hello:1\n    build:\n      context: ./hello\n      platforms: [linux/amd64, linux/arm64]\n',
    );
    write('hello/Dockerfile', 'FROM scratch\nCOPY hello.txt /\n');
    write('hello/hello.txt', 'hi\n');
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the installed plugin resolves its own dependencies (tar-stream 3, where nx brings tar-stream 2) and tars with them', async () => {
    // Relative requires from the installed package, past its "exports": what its executors load at run time.
    const script = [
      'const plugin = require("module").createRequire(require.resolve("nx-compose-buildx/package.json"));',
      'const { tarDirectory, scanTar } = plugin("./dist/run/tar.js");',
      '(async () => {',
      '  const scan = scanTar(() => true);',
      '  for await (const chunk of tarDirectory("hello")) scan.write(chunk);',
      '  const entries = await scan.end();',
      '  console.log(JSON.stringify({ tarStream: plugin("tar-stream/package").version, entries: [...entries.keys()] }));',
      '})();',
    ].join('\n');
    const r = await run(process.execPath, ['-e', script], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as { tarStream: string; entries: string[] };
    expect(got.tarStream).toMatch(/^3\./);
    expect(got.entries).toEqual(['Dockerfile', 'hello.txt']);
  });

  it.each([
    ['string form', '"nx-compose-buildx"'],
    ['{plugin, options} form', '{ "plugin": "nx-compose-buildx", "options": { "buildTargetName": "image" } }'],
  ])('%s infers the compose service with its targets', async (_, plugin) => {
    write('nx.json', `{ "plugins": [${plugin}] }\n`);
    const shown = await nx(['show', 'project', 'hello', '--json']);
    expect(shown.status, shown.stderr).toBe(0);
    const project = JSON.parse(shown.stdout);
    const buildTarget = plugin.includes('"image"') ? 'image' : 'docker-build';
    expect(Object.keys(project.targets)).toEqual(expect.arrayContaining([buildTarget, 'docker-push', 'docker-verify']));
    expect(project.targets[buildTarget].options).toMatchObject({
      context: 'hello',
      dockerfile: 'hello/Dockerfile',
      platforms: ['linux/amd64', 'linux/arm64'],
      tags: ['127.0.0.1:5000/fresh/hello:1'],
    });
    const dry = await nx(['run', `hello:${buildTarget}`, '--dryRun']);
    expect(dry.status, `${dry.stdout}${dry.stderr}`).toBe(0);
    expect(dry.stdout).toMatch(/docker buildx build .*--platform linux\/amd64,linux\/arm64/);
  });
});
