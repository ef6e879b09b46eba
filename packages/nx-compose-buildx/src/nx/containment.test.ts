/**
 * Nothing the plugin writes or deletes lies outside the workspace, judged on the resolved path:
 * the containment rules, and the executors that write (docker-config, docker-build, docker-push's
 * manifest step) refusing a path outside before they touch anything.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { insideWorkspaceCheck, isInsideWorkspace, resolvedPath, workspacePathForWrite } from './containment';
import { dockerConfig } from './executors/docker-config/executor';
import { dockerBuild } from './executors/docker-build/executor';
import { resetBuilderCache } from './executors/shared/builder';
import { writeMetadata } from './executors/shared/build-record';
import { DOCKER_INSPECT, fakeDeps, tmpContext } from './executors/shared/__fixtures__/fake-deps';

/** A workspace with `dist/out -> <outside>` and `cfg/base.json`, and a folder outside it. */
function layout() {
  const ctx = tmpContext();
  const outside = realpathSync(mkdtempSync(join(tmpdir(), 'nxcb-away-')));
  writeFileSync(join(outside, 'keep.txt'), 'keep');
  mkdirSync(join(ctx.root, 'dist'), { recursive: true });
  symlinkSync(outside, join(ctx.root, 'dist/out'));
  mkdirSync(join(ctx.root, 'cfg'), { recursive: true });
  writeFileSync(join(ctx.root, 'cfg/base.json'), '{"a":1}');
  symlinkSync(join(outside, 'keep.txt'), join(ctx.root, 'cfg/linked.json'));
  return { ctx, root: ctx.root, outside };
}

describe('containment rules', () => {
  it.each([
    ['dist/docker/api/metadata.json', true],
    ['dist/not-yet/created/x.json', true],
    ['.', true],
    ['..', false],
    ['../x', false],
    ['dist/../../x', false],
    ['/etc/passwd', false],
    ['dist/out', false],
    ['dist/out/x.json', false],
    ['dist/out/../inside.json', false], // `..` after a symlink leaves from the symlink's target, as the kernel does
    ['cfg/linked.json', false],
  ])('%s inside the workspace: %s', (path, inside) => {
    const { root } = layout();
    expect(isInsideWorkspace(root, path)).toBe(inside);
  });

  it('answers as isInsideWorkspace when one memoised check serves every path of a graph', () => {
    const { root } = layout();
    const check = insideWorkspaceCheck(root);
    const paths = ['dist/docker/api/metadata.json', 'dist/out/x.json', 'dist/out/../inside.json', 'cfg/linked.json', 'cfg/base.json'];
    for (const path of [...paths, ...paths.reverse()]) expect([path, check(path)]).toEqual([path, isInsideWorkspace(root, path)]);
    expect(paths.map((p) => check(p))).toContain(false);
  });

  it('resolves every existing component, keeps missing ones as written', () => {
    const { root, outside } = layout();
    expect(resolvedPath(join(root, 'dist/out/new/file'))).toBe(join(outside, 'new/file'));
  });

  it.each([['.'], ['dist/..'], ['../x'], ['dist/out/m.json']])('refuses to write %s', (path) => {
    const { root } = layout();
    expect(() => workspacePathForWrite(root, path, 'metadataFile')).toThrow(
      /^metadataFile .* (lies outside the workspace|is the workspace root itself)/,
    );
  });
});

describe('docker-config stays in the workspace and deletes only inside its output folder', () => {
  const run = async (root: string, ctx: ReturnType<typeof layout>['ctx'], options: Record<string, string>) => {
    const logs: string[] = [];
    const result = await dockerConfig(
      { base: 'cfg/base.json', name: 'config.json', outputPath: 'dist/docker-config/api/linux-amd64', ...options },
      ctx,
      (l) => logs.push(l),
    );
    return { result, log: logs.join('\n') };
  };

  it.each([
    { name: 'outputPath outside', options: { outputPath: '../../x' }, message: /outputPath \.\.\/\.\.\/x lies outside the workspace/ },
    {
      name: 'outputPath through a symlink out',
      options: { outputPath: 'dist/out' },
      message: /outputPath dist\/out lies outside the workspace/,
    },
    { name: 'outputPath the workspace root', options: { outputPath: '.' }, message: /outputPath \. is the workspace root itself/ },
    {
      name: 'outputPath holding the base config',
      options: { outputPath: 'cfg' },
      message: /outputPath cfg holds the input cfg\/base\.json/,
    },
    { name: 'base config outside', options: { base: '/etc/hostname' }, message: /base config \/etc\/hostname lies outside the workspace/ },
    {
      name: 'overlay through a symlink out',
      options: { overlay: 'cfg/linked.json' },
      message: /overlay cfg\/linked\.json lies outside the workspace/,
    },
    { name: 'a name that is a path', options: { name: '../escape.json' }, message: /name "\.\.\/escape\.json" must be a plain file name/ },
    { name: 'a name of ..', options: { name: '..' }, message: /name "\.\." must be a plain file name/ },
  ])('$name: fails, names the path, touches nothing', async ({ options, message }) => {
    const { root, ctx, outside } = layout();
    const { result, log } = await run(root, ctx, options);
    expect(result).toEqual({ success: false });
    expect(log).toMatch(message);
    expect(readFileSync(join(outside, 'keep.txt'), 'utf8')).toBe('keep');
    expect(existsSync(join(root, 'cfg/base.json'))).toBe(true);
    expect(existsSync(join(root, 'dist/escape.json')) || existsSync(join(root, 'escape.json'))).toBe(false);
  });

  it('a symlink left in the output folder is removed, not followed', async () => {
    const { root, ctx, outside } = layout();
    mkdirSync(join(root, 'dist/docker-config/api/linux-amd64'), { recursive: true });
    symlinkSync(outside, join(root, 'dist/docker-config/api/linux-amd64/stale'));
    symlinkSync(join(outside, 'keep.txt'), join(root, 'dist/docker-config/api/linux-amd64/config.json'));
    const { result } = await run(root, ctx, {});
    expect(result).toEqual({ success: true });
    expect(readFileSync(join(outside, 'keep.txt'), 'utf8')).toBe('keep');
    expect(existsSync(join(root, 'dist/docker-config/api/linux-amd64/stale'))).toBe(false);
    expect(JSON.parse(readFileSync(join(root, 'dist/docker-config/api/linux-amd64/config.json'), 'utf8'))).toEqual({ a: 1 });
  });

  it('keys named __proto__ and constructor merge as data', async () => {
    const { root, ctx } = layout();
    writeFileSync(join(root, 'cfg/base.json'), '{"__proto__":{"a":1},"constructor":{"b":1}}');
    writeFileSync(join(root, 'cfg/over.json'), '{"__proto__":{"c":2},"constructor":{"b":2}}');
    expect((await run(root, ctx, { overlay: 'cfg/over.json' })).result).toEqual({ success: true });
    const text = readFileSync(join(root, 'dist/docker-config/api/linux-amd64/config.json'), 'utf8');
    expect(text.replace(/\s+/g, '')).toBe('{"__proto__":{"a":1,"c":2},"constructor":{"b":2}}');
  });
});

describe('metadata files stay in the workspace', () => {
  beforeEach(() => resetBuilderCache());

  it.each([['../../x/metadata.json'], ['/tmp/nxcb-metadata.json'], ['dist/out/metadata.json']])(
    'docker-build with metadataFile %s fails before running anything',
    async (metadataFile) => {
      const { ctx, outside } = layout();
      const { deps, calls } = fakeDeps((argv) => (argv[2] === 'inspect' ? { stdout: DOCKER_INSPECT } : {}));
      const options = {
        service: 'api',
        context: 'apps/api',
        platforms: ['linux/amd64'],
        args: {},
        tags: ['r/api:1'],
        labels: {},
        cacheFrom: [],
        cacheTo: [],
        secrets: [],
        ssh: [],
        additionalContexts: {},
        extraHosts: [],
        metadataFile,
      };
      const result = await dockerBuild(options, ctx, deps);
      expect(result.success).toBe(false);
      expect(calls.filter((c) => c.argv[2] === 'build')).toEqual([]);
      expect(existsSync(join(outside, 'metadata.json'))).toBe(false);
    },
  );

  it('writeMetadata refuses a path outside', () => {
    const { root } = layout();
    expect(() => writeMetadata(root, '../m.json', { service: 'a', tags: [], platforms: {}, pushed: false, loaded: false })).toThrow(
      /lies outside the workspace/,
    );
  });
});
