/**
 * The bad-input table at graph level: one real Nx workspace holding every kind of broken or
 * hostile input beside a healthy service, read by real `nx show projects` / `nx show project`.
 * Each case is a failing project whose message names file, line and service; the healthy
 * project still loads; the alias bombs are bounded by the hook's timeout (no timed assertion:
 * without the cap the graph takes minutes).
 */
import { existsSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, type TempWorkspace } from '../support/workspace';

const DF = 'FROM scratch\nCOPY . /x\n';

function plainAliasBomb(): string {
  const lines = ['x-a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++)
    lines.push(
      `x-a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(',')}]`,
    );
  return `${lines.join('\n')}\nservices:\n  laughs:\n    build: .\n    x-bomb: *a8\n`;
}
function mergeKeyAliasBomb(): string {
  const lines = ['x-m0: &m0 {k: v}'];
  for (let i = 1; i < 12; i++)
    lines.push(
      `x-m${i}: &m${i} {<<: [${Array(8)
        .fill(`*m${i - 1}`)
        .join(',')}]}`,
    );
  return `${lines.join('\n')}\nservices:\n  merges:\n    build: .\n    <<: *m11\n`;
}

const FILES: Record<string, string> = {
  'good/compose.yaml': 'services:\n  ok:\n    build: ./ok\n    image: reg.local/ok\n',
  'good/ok/Dockerfile': DF,
  'plainbomb/compose.yaml': plainAliasBomb(),
  'plainbomb/Dockerfile': DF,
  'mergebomb/compose.yaml': mergeKeyAliasBomb(),
  'mergebomb/Dockerfile': DF,
  'ignore/compose.yaml': 'services:\n  ign-open:\n    build: ./open\n  ign-tail:\n    build: ./tail\n  ign-range:\n    build: ./range\n',
  'ignore/open/Dockerfile': DF,
  'ignore/open/.dockerignore': '# a comment\n[\n',
  'ignore/open/src/a.txt': 'a',
  'ignore/tail/Dockerfile': DF,
  'ignore/tail/.dockerignore': 'node_modules\na[\n',
  'ignore/range/Dockerfile': DF,
  'ignore/range/.dockerignore': '[z-a]\n',
  'files/compose.yaml': [
    'services:',
    '  df-folder:',
    '    build:',
    '      context: .',
    '      dockerfile: sub',
    '  ctx-file:',
    '    build: ./plain.txt',
    '',
  ].join('\n'),
  'files/sub/x': 'x',
  'files/plain.txt': 'x',
  'keys/compose.yaml':
    'services:\n  __proto__:\n    build: .\n  constructor:\n    build: .\n  toString:\n    build: .\n  keyed:\n    build:\n      context: .\n      args: { __proto__: a, constructor: b }\n',
  'keys/Dockerfile': DF,
  'compose.yaml': [
    'services:',
    '  opt-context:',
    '    build: ./--output=type=local,dest=out',
    '  opt-image:',
    '    build: ./good',
    '    image: --privileged',
    '',
  ].join('\n'),
  '--output=type=local,dest=out/Dockerfile': DF,
  'good/Dockerfile': DF,
  'cfg/compose.yaml': [
    'services:',
    '  cfg-abs:',
    '    build:',
    '      context: .',
    '      platforms: [linux/amd64]',
    '    x-nx-buildx:',
    '      platformConfig: { base: /etc/hostname }',
    '  cfg-up:',
    '    build:',
    '      context: .',
    '      platforms: [linux/amd64]',
    '    x-nx-buildx:',
    '      platformConfig: { base: base.json, overlays: { linux/amd64: ../../../x.json } }',
    '  cfg-ok:',
    '    image: reg.local/cfg-ok',
    '    build:',
    '      context: .',
    '      platforms: [linux/amd64]',
    '    x-nx-buildx:',
    '      platformConfig: { base: base.json }',
    '',
  ].join('\n'),
  'cfg/Dockerfile': DF,
  'secret/compose.yaml':
    'services:\n  leaky:\n    build:\n      context: .\n      args: { NPM_TOKEN: e2e-leaky-value-7f3, PUBLIC_KEY: e2e-public-value }\n',
  'secret/Dockerfile': DF,
  'trav/compose.yaml':
    'services:\n  ../../../x:\n    build:\n      context: .\n      platforms: [linux/amd64]\n    x-nx-buildx:\n      platformConfig: { base: base.json }\n',
  'trav/Dockerfile': DF,
  'trav/base.json': '{}',
  'cfg/base.json': '{"a":1}',
};

interface Shown {
  description: string;
  targets: Record<string, { executor?: string; cache?: boolean; options?: Record<string, unknown> }>;
}

describe('bad input at graph level: real nx loads the graph, one error project per bad service', () => {
  let ws: TempWorkspace;
  let outside: string;
  let names: string[];
  let stderr: string;
  // Every project as Nx resolved it, from one `nx graph --file` (an `nx show project` each costs seconds).
  const shown = new Map<string, Shown>();
  const show = async (name: string): Promise<Shown> => {
    const config = shown.get(name);
    if (!config) throw new Error(`no project ${name} in ${[...shown.keys()].join(', ')}`);
    return config;
  };

  // The hook's timeout bounds the alias bombs: uncapped, they hold the graph for minutes.
  beforeAll(async () => {
    outside = realpathSync(mkdtempSync(join(tmpdir(), 'nxcb-outside-')));
    writeFileSync(join(outside, 'Dockerfile'), DF);
    ws = await createWorkspace({
      files: {
        ...FILES,
        'away/compose.yaml': [
          'services:',
          '  away-abs:',
          `    build: ${outside}`,
          '  away-root:',
          '    build:',
          '      context: /',
          '      dockerfile_inline: "FROM scratch"',
          '  away-link:',
          '    build: ./link',
          '',
        ].join('\n'),
      },
    });
    symlinkSync(outside, join(ws.root, 'away/link'));
    symlinkSync('/etc', join(ws.root, 'cfg/etc'));
    ws.write(
      'cfg/compose.override.yaml',
      'services:\n  cfg-link:\n    build:\n      context: .\n      platforms: [linux/amd64]\n    x-nx-buildx:\n      platformConfig: { base: etc/hostname }\n',
    );
    const listed = await ws.nx(['show', 'projects', '--json']);
    names = JSON.parse(listed.stdout);
    stderr = listed.stderr;
    await ws.nx(['graph', `--file=${join(ws.root, 'dist/graph.json')}`]);
    const graph = JSON.parse(ws.read('dist/graph.json')).graph.nodes as Record<
      string,
      { data: { metadata?: { description?: string }; targets: Shown['targets'] } }
    >;
    for (const [name, node] of Object.entries(graph))
      shown.set(name, { description: node.data.metadata?.description ?? '', targets: node.data.targets });
  }, 240_000);
  afterAll(() => {
    ws?.dispose();
    if (outside) rmSync(outside, { recursive: true, force: true });
  });

  it('the healthy projects load beside every broken one, and nx show project agrees with the graph', async () => {
    expect(names).toEqual(expect.arrayContaining(['ok', 'cfg-ok', 'keyed']));
    expect([...shown.keys()].sort()).toEqual([...names].sort());
    for (const name of ['ok', 'ign-open']) {
      const p = JSON.parse((await ws.nx(['show', 'project', name, '--json'])).stdout);
      expect(p.targets['docker-build']).toEqual(expect.objectContaining((await show(name)).targets['docker-build']));
    }
    expect((await show('ok')).targets['docker-build'].executor).toBe('nx-compose-buildx:docker-build');
  });

  it.each([
    {
      name: 'plain alias bomb',
      project: 'plainbomb-compose-error',
      message: /^plainbomb\/compose\.yaml:\d+: YAML aliases expand to more than 10000 values/,
    },
    {
      name: 'merge-key alias bomb',
      project: 'mergebomb-compose-error',
      message: /^mergebomb\/compose\.yaml:\d+: YAML aliases expand to more than 10000 values/,
    },
    {
      name: '.dockerignore "["',
      project: 'ign-open',
      message: /^ignore\/open\/\.dockerignore:2 \(service "ign-open"\): invalid pattern "\[": BuildKit rejects it/,
    },
    {
      name: '.dockerignore "a["',
      project: 'ign-tail',
      message: /^ignore\/tail\/\.dockerignore:2 \(service "ign-tail"\): invalid pattern "a\["/,
    },
    {
      name: '.dockerignore "[z-a]"',
      project: 'ign-range',
      message: /^ignore\/range\/\.dockerignore:1 \(service "ign-range"\): invalid pattern "\[z-a\]"/,
    },
    {
      name: 'Dockerfile that is a folder',
      project: 'df-folder',
      message: /^files\/compose\.yaml:5 \(service "df-folder"\): Dockerfile files\/sub is a folder, not a file/,
    },
    {
      name: 'context that is a file',
      project: 'ctx-file',
      message: /^files\/compose\.yaml:7 \(service "ctx-file"\): build context files\/plain\.txt is a file, not a folder/,
    },
    {
      name: 'service named ../../../x (with a platformConfig, docker-config would write outside)',
      project: 'trav-..-..-..-x',
      // Compose's own reason: the compose-spec schema allows no such service name.
      message: /^trav\/compose\.yaml:2 \(service "\.\.\/\.\.\/\.\.\/x"\): services Additional property \.\.\/\.\.\/\.\.\/x is not allowed/,
    },
    {
      name: 'service __proto__',
      project: 'keys-__proto__',
      message: /^keys\/compose\.yaml:2 \(service "__proto__"\): service name "__proto__" cannot be an Nx project name/,
    },
    {
      name: 'service constructor',
      project: 'keys-constructor',
      message: /^keys\/compose\.yaml:4 \(service "constructor"\): service name "constructor" cannot be an Nx project name/,
    },
    {
      name: 'service toString',
      project: 'keys-toString',
      message: /^keys\/compose\.yaml:6 \(service "toString"\): service name "toString" cannot be an Nx project name/,
    },
    {
      name: 'context named like an option',
      project: 'opt-context',
      message: /^compose\.yaml:3 \(service "opt-context"\): build context --output=type=local,dest=out begins with "-"/,
    },
    {
      name: 'image named like an option',
      project: 'opt-image',
      message: /^compose\.yaml:6 \(service "opt-image"\): image --privileged begins with "-"/,
    },
    {
      name: 'platformConfig base at an absolute path',
      project: 'cfg-abs',
      message: /^cfg\/compose\.yaml:6 \(service "cfg-abs"\): x-nx-buildx\.platformConfig file \/etc\/hostname lies outside the workspace/,
    },
    {
      name: 'platformConfig overlay up with ../..',
      project: 'cfg-up',
      message:
        /^cfg\/compose\.yaml:12 \(service "cfg-up"\): x-nx-buildx\.platformConfig file \.\.\/\.\.\/\.\.\/x\.json lies outside the workspace/,
    },
    {
      name: 'platformConfig base through a symlink out',
      project: 'cfg-link',
      message:
        /^cfg\/compose\.override\.yaml:6 \(service "cfg-link"\): x-nx-buildx\.platformConfig file etc\/hostname lies outside the workspace/,
    },
  ])('$name: an error project naming file, line and service', async ({ project, message }) => {
    expect(names, `no project ${project} in ${names.join(', ')}`).toContain(project);
    const config = await show(project);
    expect(config.targets['docker-build'].executor).toBe('nx-compose-buildx:config-error');
    expect(String(config.targets['docker-build'].options?.message)).toMatch(message);
    expect(config.description).toContain(String(config.targets['docker-build'].options?.message));
    expect(stderr).toContain(String(config.targets['docker-build'].options?.message)); // said at graph time too
  });

  it('a secret-like build arg: a graph-time warning naming service, file and build.secrets, never the value', async () => {
    expect((await show('leaky')).targets['docker-build'].executor).toBe('nx-compose-buildx:docker-build'); // a warning, not an error
    const warning = stderr.split('\n').find((l) => l.includes('service "leaky"'));
    expect(warning, stderr).toMatch(/service "leaky" \(secret\/compose\.yaml\): build arg NPM_TOKEN looks like a secret .*build\.secrets/);
    expect(warning).not.toContain('PUBLIC_KEY');
    expect(stderr).not.toContain('e2e-leaky-value-7f3');
  });

  it('args named __proto__ and constructor are data', async () => {
    const args = (await show('keyed')).targets['docker-build'].options?.args as Record<string, string>;
    expect(Object.entries(args)).toEqual([
      ['__proto__', 'a'],
      ['constructor', 'b'],
    ]);
  });

  it.each([
    { project: 'away-abs', says: () => outside },
    { project: 'away-root', says: () => 'outside the workspace' },
    { project: 'away-link', says: () => 'away/link' },
  ])('$project builds from outside the workspace: warned at graph time, never cached', async ({ project, says }) => {
    const config = await show(project);
    expect(config.targets['docker-build'].executor).toBe('nx-compose-buildx:docker-build');
    for (const [name, target] of Object.entries(config.targets)) expect(target.cache, `${project}:${name}`).toBe(false);
    const warning = stderr.split('\n').find((l) => l.includes(`service "${project}" builds from`));
    expect(warning, stderr).toMatch(/outside the workspace; Nx cannot hash files there, so its targets are not cached/);
    expect(warning).toContain(says());
    expect((await show('ok')).targets['docker-build'].cache).toBe(true);
  });

  it('docker-config refuses an output folder outside the workspace and writes nothing there', async () => {
    const escape = `nxcb-escape-${process.pid}`;
    const run = await ws.nx(['run', 'cfg-ok:docker-config--linux-amd64', `--outputPath=../${escape}`, '--skip-nx-cache'], {
      allowFailure: true,
    });
    expect(run.status).not.toBe(0);
    expect(`${run.stdout}${run.stderr}`).toContain(`outputPath ../${escape} lies outside the workspace`);
    expect(existsSync(join(ws.root, '..', escape))).toBe(false);
    const ok = await ws.nx(['run', 'cfg-ok:docker-config--linux-amd64', '--skip-nx-cache']);
    expect(ok.status).toBe(0);
    expect(JSON.parse(ws.read('dist/docker-config/cfg-ok/linux-amd64/config.json'))).toEqual({ a: 1 });
  });
});
