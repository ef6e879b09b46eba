/**
 * The bad-input table: each case is one broken (or hostile) compose service or file, set beside a
 * healthy compose project. Every case must give a clear error naming the file, the line where there
 * is one, and the service, and the healthy project must still load. Runs createComposeNodes (the
 * plugin's edge) over a real temporary workspace, as Nx would.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CreateNodesContext, ProjectConfiguration } from '@nx/devkit';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createComposeNodes } from './create-nodes';
import { graphCacheWritesSettled } from './graph-cache';

/** A file's content, a folder (`{ dir: true }`) or a symlink (`{ link: target }`). */
type Entry = string | { dir: true } | { link: string };

const roots: string[] = [];
afterAll(async () => {
  await graphCacheWritesSettled(); // createNodes does not wait for its cache write
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function workspace(files: Record<string, Entry>): string {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'nxcb-bad-')));
  roots.push(root);
  const all: Record<string, Entry> = {
    'good/compose.yaml': 'services:\n  ok:\n    build: ./ok\n    image: reg.local/ok\n',
    'good/ok/Dockerfile': 'FROM scratch\nCOPY . /\n',
    'good/ok/app.txt': 'x',
    ...files,
  };
  for (const [path, entry] of Object.entries(all)) {
    const abs = join(root, path);
    mkdirSync(dirname(abs), { recursive: true });
    if (typeof entry === 'string') writeFileSync(abs, entry);
    else if ('dir' in entry) mkdirSync(abs, { recursive: true });
    else symlinkSync(entry.link.replace('<root>', root), abs);
  }
  return root;
}

const composeFilesIn = (files: Record<string, Entry>) => [
  'good/compose.yaml',
  ...Object.keys(files).filter((f) => /(^|\/)(docker-)?compose\.ya?ml$/.test(f)),
];

async function graph(files: Record<string, Entry>, root = workspace(files)) {
  const context = { workspaceRoot: root, nxJsonConfiguration: {} } as CreateNodesContext;
  const results = await createComposeNodes(composeFilesIn(files), {}, context);
  const projects: Record<string, ProjectConfiguration> = {};
  for (const [, result] of results) for (const p of Object.values(result.projects ?? {})) projects[p.name!] = p;
  return { root, projects };
}

const errorOf = (p: ProjectConfiguration | undefined) => {
  const target = p?.targets?.['docker-build'];
  return target?.executor === 'nx-compose-buildx:config-error' ? String(target.options?.message) : undefined;
};

let warnings: string[] = [];
beforeEach(() => {
  warnings = [];
  // The plugin warns on stderr with console.warn (no @nx/devkit logger at graph time).
  vi.spyOn(console, 'warn').mockImplementation((m: unknown) => void warnings.push(String(m)));
});
afterEach(() => vi.restoreAllMocks());

const svc = (name: string, body: string) => `services:\n  ${name}:\n${body}`;
const DF = 'FROM scratch\n';

/** The cyclic alias bombs: a few hundred bytes that expand to billions of values without a cap. */
function plainAliasBomb(): string {
  const lines = ['x-a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++)
    lines.push(
      `x-a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(',')}]`,
    );
  return `${lines.join('\n')}\nservices:\n  boom:\n    build: ./b\n    x-bomb: *a8\n`;
}
function mergeKeyAliasBomb(): string {
  const lines = ['x-m0: &m0 {k: v}'];
  for (let i = 1; i < 12; i++)
    lines.push(
      `x-m${i}: &m${i} {<<: [${Array(8)
        .fill(`*m${i - 1}`)
        .join(',')}]}`,
    );
  return `${lines.join('\n')}\nservices:\n  boom:\n    build: ./b\n    <<: *m11\n`;
}

interface ErrorCase {
  name: string;
  files: Record<string, Entry>;
  /** The project holding the error. */
  project: string;
  /** The whole error text: file:line (service "x"): detail. */
  message: RegExp;
  /** Healthy services of the same compose file, which must still load. */
  alsoLoads?: string[];
}

const cases: ErrorCase[] = [
  // Compose files that cannot be read: the compose project is one error project.
  {
    name: 'YAML syntax error',
    files: { 'bad/compose.yaml': svc('s', '    build: ./s\n    image: [unclosed\n') },
    project: 'bad-compose-error',
    message: /^bad\/compose\.yaml:5(:\d+)?: invalid YAML/,
  },
  {
    name: 'unset ${X:?msg}',
    files: { 'bad/compose.yaml': svc('needs-x', '    build: .\n    image: r/x:${NXCB_UNSET_X:?set it}\n'), 'bad/Dockerfile': DF },
    project: 'bad-compose-error',
    message: /^bad\/compose\.yaml:4(:\d+)? \(service "needs-x"\): .*set it/,
  },
  {
    name: 'services is a list',
    files: { 'bad/compose.yaml': 'services:\n  - a\n' },
    project: 'bad-compose-error',
    message: /^bad\/compose\.yaml:1: services must be a mapping/,
  },
  {
    name: 'plain alias bomb (billion laughs) is capped, naming the file',
    files: { 'bad/compose.yaml': plainAliasBomb(), 'bad/b/Dockerfile': DF },
    project: 'bad-compose-error',
    message: /^bad\/compose\.yaml:\d+: YAML aliases expand to more than 10000 values/,
  },
  {
    name: 'merge-key (<<) alias bomb is capped, naming the file',
    files: { 'bad/compose.yaml': mergeKeyAliasBomb(), 'bad/b/Dockerfile': DF },
    project: 'bad-compose-error',
    message: /^bad\/compose\.yaml:\d+: YAML aliases expand to more than 10000 values/,
  },
  {
    name: 'include of a missing file',
    files: { 'bad/compose.yaml': 'include:\n  - ./nope.yaml\nservices: {}\n' },
    project: 'bad-compose-error',
    message: /^bad\/compose\.yaml.*nope\.yaml/,
  },
  {
    name: 'extends of a missing file',
    files: { 'bad/compose.yaml': svc('ext', '    extends: { file: ./gone.yaml, service: base }\n    build: .\n'), 'bad/Dockerfile': DF },
    project: 'bad-compose-error',
    message: /^bad\/compose\.yaml:3 \(service "ext"\): .*compose file not found: bad\/gone\.yaml$/,
  },

  // One broken service: that service alone is an error project.
  {
    name: 'unknown key under build',
    files: { 'bad/compose.yaml': svc('s', '    build:\n      context: .\n      dockerfil: Dockerfile\n'), 'bad/Dockerfile': DF },
    project: 's',
    message: /^bad\/compose\.yaml:5 \(service "s"\): services\.s\.build Additional property dockerfil is not allowed/,
  },
  {
    name: 'invalid platform',
    files: { 'bad/compose.yaml': svc('s', '    build:\n      context: .\n      platforms: [linux/arm65]\n'), 'bad/Dockerfile': DF },
    project: 's',
    message: /^bad\/compose\.yaml:5 \(service "s"\): invalid platform "linux\/arm65"/,
  },
  {
    name: 'missing context',
    files: { 'bad/compose.yaml': svc('s', '    build: ./missing\n') },
    project: 's',
    message: /^bad\/compose\.yaml:3 \(service "s"\): build context bad\/missing does not exist/,
  },
  {
    name: 'missing Dockerfile',
    files: { 'bad/compose.yaml': svc('s', '    build:\n      context: .\n      dockerfile: Nope\n') },
    project: 's',
    message: /^bad\/compose\.yaml:5 \(service "s"\): Dockerfile bad\/Nope does not exist/,
  },
  {
    name: 'Dockerfile that is a folder',
    files: { 'bad/compose.yaml': svc('s', '    build:\n      context: .\n      dockerfile: sub\n'), 'bad/sub/x': 'x' },
    project: 's',
    message: /^bad\/compose\.yaml:5 \(service "s"\): Dockerfile bad\/sub is a folder, not a file/,
  },
  {
    name: 'context that is a file',
    files: { 'bad/compose.yaml': svc('s', '    build: ./f\n'), 'bad/f': 'x' },
    project: 's',
    message: /^bad\/compose\.yaml:3 \(service "s"\): build context bad\/f is a file, not a folder/,
  },
  {
    name: 'additional context that is a file',
    files: {
      'bad/compose.yaml': svc('s', '    build:\n      context: .\n      additional_contexts:\n        extra: ./f\n'),
      'bad/Dockerfile': DF,
      'bad/f': 'x',
    },
    project: 's',
    message: /^bad\/compose\.yaml:5 \(service "s"\): additional context "extra" \(bad\/f\) is a file, not a folder/,
  },
  // Type errors name the key, its line and the service; the service's neighbours still load.
  {
    name: 'args: 42',
    files: { 'bad/compose.yaml': svc('s', '    build:\n      context: .\n      args: 42\n  fine:\n    build: .\n'), 'bad/Dockerfile': DF },
    project: 's',
    message: /^bad\/compose\.yaml:5 \(service "s"\): services\.s\.build\.args must be a mapping$/,
    alsoLoads: ['fine'],
  },
  {
    name: 'labels as a string',
    files: { 'bad/compose.yaml': svc('s', '    build:\n      context: .\n      labels: a=b\n'), 'bad/Dockerfile': DF },
    project: 's',
    message: /^bad\/compose\.yaml:5 \(service "s"\): services\.s\.build\.labels must be a mapping$/,
  },
  {
    name: 'platforms as a string',
    files: { 'bad/compose.yaml': svc('s', '    build:\n      context: .\n      platforms: linux/amd64\n'), 'bad/Dockerfile': DF },
    project: 's',
    message: /^bad\/compose\.yaml:5 \(service "s"\): services\.s\.build\.platforms must be a list$/,
  },
  {
    name: 'build: 42',
    files: { 'bad/compose.yaml': svc('s', '    build: 42\n') },
    project: 's',
    message: /^bad\/compose\.yaml:3 \(service "s"\): services\.s\.build must be a string$/,
  },
  {
    name: 'context as a list',
    files: { 'bad/compose.yaml': svc('s', '    build:\n      context: [a]\n') },
    project: 's',
    message: /^bad\/compose\.yaml:4 \(service "s"\): services\.s\.build\.context must be a string$/,
  },
  {
    name: 'a service that is a list',
    files: { 'bad/compose.yaml': 'services:\n  s: [a]\n  fine:\n    build: .\n', 'bad/Dockerfile': DF },
    project: 's',
    message: /^bad\/compose\.yaml:2 \(service "s"\): services\.s must be a mapping$/,
    alsoLoads: ['fine'],
  },
  {
    name: 'undefined build secret',
    files: { 'bad/compose.yaml': svc('s', '    build:\n      context: .\n      secrets: [nope]\n'), 'bad/Dockerfile': DF },
    project: 's',
    message: /^bad\/compose\.yaml:5 \(service "s"\): build secret "nope" is not defined/,
  },
  {
    name: '.dockerignore pattern "["',
    files: {
      'bad/compose.yaml': svc('s', '    build: .\n'),
      'bad/Dockerfile': DF,
      'bad/src/a': 'a',
      'bad/.dockerignore': '# comment\n[\n',
    },
    project: 's',
    message: /^bad\/\.dockerignore:2 \(service "s"\): invalid pattern "\[": BuildKit rejects it/,
  },
  {
    name: '.dockerignore pattern "a["',
    files: { 'bad/compose.yaml': svc('s', '    build: .\n'), 'bad/Dockerfile': DF, 'bad/.dockerignore': 'node_modules\n\na[\n' },
    project: 's',
    message: /^bad\/\.dockerignore:3 \(service "s"\): invalid pattern "a\["/,
  },
  {
    name: '.dockerignore pattern "[z-a]"',
    files: { 'bad/compose.yaml': svc('s', '    build: .\n'), 'bad/Dockerfile': DF, 'bad/.dockerignore': '[z-a]\n' },
    project: 's',
    message: /^bad\/\.dockerignore:1 \(service "s"\): invalid pattern "\[z-a\]"/,
  },
  {
    name: '<Dockerfile>.dockerignore with a bad pattern',
    files: {
      'bad/compose.yaml': svc('s', '    build:\n      context: .\n      dockerfile: app.Dockerfile\n'),
      'bad/app.Dockerfile': DF,
      'bad/app.Dockerfile.dockerignore': '!keep\nsrc/[\n',
    },
    project: 's',
    message: /^bad\/app\.Dockerfile\.dockerignore:2 \(service "s"\): invalid pattern "src\/\["/,
  },
  {
    name: '.dockerignore that is a folder',
    files: { 'bad/compose.yaml': svc('s', '    build: .\n'), 'bad/Dockerfile': DF, 'bad/.dockerignore/x': 'x' },
    project: 's',
    message: /^bad\/\.dockerignore \(service "s"\): cannot read the ignore file: EISDIR/,
  },
  {
    name: 'dependency cycle',
    files: {
      'bad/compose.yaml': 'services:\n  p:\n    image: reg.local/p\n    build: ./p\n  q:\n    image: reg.local/q\n    build: ./q\n',
      'bad/p/Dockerfile': 'FROM reg.local/q\n',
      'bad/q/Dockerfile': 'FROM reg.local/p\n',
    },
    project: 'p',
    message: /^bad\/compose\.yaml:2 \(service "p"\): image dependency cycle: p -> q -> p$/,
  },
  {
    name: 'two folders claiming one project name',
    files: {
      'bad/compose.yaml': 'name: same\nservices:\n  dup:\n    build: .\n',
      'bad/Dockerfile': DF,
      'bad2/compose.yaml': 'name: same\nservices:\n  dup:\n    build: .\n',
      'bad2/Dockerfile': DF,
    },
    project: 'bad-dup',
    message:
      /^bad\/compose\.yaml:3 \(service "dup"\): Nx project name "same-dup" is claimed by more than one compose service; also defined in bad2\/compose\.yaml:3 /,
  },

  // Names that are object keys: Nx keeps projects in plain objects, so these cannot be project names.
  ...['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'].map((name) => ({
    name: `service named ${name}`,
    files: { 'bad/compose.yaml': svc(name, '    build: .\n'), 'bad/Dockerfile': DF },
    project: `bad-${name}`,
    message: new RegExp(`^bad/compose\\.yaml:2 \\(service "${name}"\\): service name "${name}" cannot be an Nx project name`),
  })),

  // Traversal names: a service name becomes folder names (dist/docker/<name>/...).
  {
    name: 'service named ../../../x',
    files: { 'bad/compose.yaml': svc('../../../x', '    build: .\n'), 'bad/Dockerfile': DF },
    project: 'bad-..-..-..-x',
    message: /^bad\/compose\.yaml:2 \(service "\.\.\/\.\.\/\.\.\/x"\): services Additional property \.\.\/\.\.\/\.\.\/x is not allowed/,
  },
  {
    name: 'service named ..',
    files: { 'bad/compose.yaml': svc('..', '    build: .\n'), 'bad/Dockerfile': DF },
    project: 'bad-..',
    message: /^bad\/compose\.yaml:2 \(service "\.\."\): service name "\.\." is not valid/,
  },

  // Values docker would read as options.
  {
    name: 'context folder named like an option',
    files: { 'compose.yaml': svc('s', '    build: ./--output=type=local,dest=x\n'), '--output=type=local,dest=x/Dockerfile': DF },
    project: 's',
    message: /^compose\.yaml:3 \(service "s"\): build context --output=type=local,dest=x begins with "-"/,
  },
  {
    name: 'image named like an option',
    files: { 'bad/compose.yaml': svc('s', '    build: .\n    image: --privileged\n'), 'bad/Dockerfile': DF },
    project: 's',
    message: /^bad\/compose\.yaml:4 \(service "s"\): image --privileged begins with "-"/,
  },
  {
    name: 'build tag named like an option',
    files: {
      'bad/compose.yaml': svc('s', '    image: reg.local/s\n    build:\n      context: .\n      tags: [reg.local/s:1, -v=/:/host]\n'),
      'bad/Dockerfile': DF,
    },
    project: 's',
    message: /^bad\/compose\.yaml:6 \(service "s"\): image -v=\/:\/host begins with "-"/,
  },
  {
    name: 'Dockerfile "-" (docker reads stdin)',
    files: { 'compose.yaml': svc('s', '    build:\n      context: .\n      dockerfile: "-"\n'), '-': DF },
    project: 's',
    message: /^compose\.yaml:5 \(service "s"\): Dockerfile - begins with "-"/,
  },

  // Config files outside the workspace.
  {
    name: 'platformConfig base as an absolute path',
    files: {
      'bad/compose.yaml': svc(
        's',
        '    build:\n      context: .\n      platforms: [linux/amd64]\n    x-nx-buildx:\n      platformConfig: { base: /etc/hostname }\n',
      ),
      'bad/Dockerfile': DF,
    },
    project: 's',
    message: /^bad\/compose\.yaml:6 \(service "s"\): x-nx-buildx\.platformConfig file \/etc\/hostname lies outside the workspace/,
  },
  {
    name: 'platformConfig overlay with ../..',
    files: {
      'bad/compose.yaml': svc(
        's',
        '    build:\n      context: .\n      platforms: [linux/amd64]\n    x-nx-buildx:\n      platformConfig: { base: base.json, overlays: { linux/amd64: ../../../x.json } }\n',
      ),
      'bad/Dockerfile': DF,
      'bad/base.json': '{}',
    },
    project: 's',
    message: /^bad\/compose\.yaml:6 \(service "s"\): x-nx-buildx\.platformConfig file \.\.\/\.\.\/\.\.\/x\.json lies outside the workspace/,
  },
  {
    name: 'platformConfig base through a symlink out',
    files: {
      'bad/compose.yaml': svc(
        's',
        '    build:\n      context: .\n      platforms: [linux/amd64]\n    x-nx-buildx:\n      platformConfig: { base: etc/hostname }\n',
      ),
      'bad/Dockerfile': DF,
      'bad/etc': { link: '/etc' },
    },
    project: 's',
    message: /^bad\/compose\.yaml:6 \(service "s"\): x-nx-buildx\.platformConfig file etc\/hostname lies outside the workspace/,
  },
];

describe('bad input: one clear error per broken service or file, and the rest of the graph loads', () => {
  it.each(cases)('$name', async ({ files, project, message, alsoLoads }) => {
    const { projects } = await graph(files);
    expect(projects.ok?.targets?.['docker-build']?.executor, `healthy project missing: ${Object.keys(projects).join(', ')}`).toBe(
      'nx-compose-buildx:docker-build',
    );
    const error = errorOf(projects[project]);
    expect(error, `no error project "${project}" in ${Object.keys(projects).join(', ')}`).toBeDefined();
    expect(error).toMatch(message);
    expect(error).not.toMatch(/\n\s+at /); // no stack trace
    expect(warnings.join('\n')).toContain(error!);
    for (const sibling of alsoLoads ?? [])
      expect(projects[sibling]?.targets?.['docker-build']?.executor, sibling).toBe('nx-compose-buildx:docker-build');
  });

  it('has at least 30 cases', () => expect(cases.length).toBeGreaterThanOrEqual(30));
});

describe('names that are object keys work as data', () => {
  it('args and labels named __proto__, constructor and toString are kept', async () => {
    const { projects } = await graph({
      'bad/compose.yaml': svc(
        'keys',
        '    build:\n      context: .\n      args: { __proto__: a, constructor: b, toString: c }\n      labels: { __proto__: l, constructor: m }\n',
      ),
      'bad/Dockerfile': DF,
    });
    const options = projects.keys.targets!['docker-build'].options;
    expect(Object.entries(options.args)).toEqual([
      ['__proto__', 'a'],
      ['constructor', 'b'],
      ['toString', 'c'],
    ]);
    expect(Object.entries(options.labels)).toEqual([
      ['__proto__', 'l'],
      ['constructor', 'm'],
    ]);
  });
});

describe('contexts and Dockerfiles outside the workspace', () => {
  const outsideDir = realpathSync(mkdtempSync(join(tmpdir(), 'nxcb-outside-')));
  roots.push(outsideDir);
  writeFileSync(join(outsideDir, 'Dockerfile'), DF);

  it.each([
    { name: 'a context given as an absolute path elsewhere', body: `    build: ${outsideDir}\n`, files: {}, says: outsideDir },
    {
      name: 'a context of /',
      body: '    build:\n      context: /\n      dockerfile_inline: "FROM scratch"\n',
      files: {},
      says: 'outside the workspace',
    },
    { name: 'a context through a symlink out', body: '    build: ./out\n', files: { 'bad/out': { link: outsideDir } }, says: 'bad/out' },
    {
      name: 'a Dockerfile through a symlink out',
      body: '    build:\n      context: .\n      dockerfile: link.Dockerfile\n',
      files: { 'bad/link.Dockerfile': { link: join(outsideDir, 'Dockerfile') } },
      says: 'bad/link.Dockerfile',
    },
  ])('$name: a warning naming service and path, and nothing cached', async ({ body, files, says }) => {
    const { projects } = await graph({ 'bad/compose.yaml': svc('away', body), 'bad/Dockerfile': DF, ...files });
    expect(projects.ok.targets!['docker-build'].cache).toBe(true);
    const away = projects.away;
    expect(away.targets!['docker-build'].executor).toBe('nx-compose-buildx:docker-build');
    for (const [name, target] of Object.entries(away.targets!)) expect(target.cache, name).not.toBe(true);
    expect(warnings.join('\n')).toMatch(
      /service "away" builds from .* outside the workspace; Nx cannot hash files there, so its targets are not cached/,
    );
    expect(warnings.join('\n')).toContain(says);
  });
});

describe('error results are cached, and the cache entry goes stale when the missing file appears', () => {
  it.each([
    { name: 'missing context', files: { 'bad/compose.yaml': svc('late', '    build: ./later\n') }, add: { 'bad/later/Dockerfile': DF } },
    { name: 'missing Dockerfile', files: { 'bad/compose.yaml': svc('late', '    build: .\n') }, add: { 'bad/Dockerfile': DF } },
    {
      name: 'missing included file',
      files: { 'bad/compose.yaml': 'include:\n  - ./inc/compose.yaml\n' },
      add: { 'bad/inc/compose.yaml': svc('late', '    build: .\n'), 'bad/inc/Dockerfile': DF },
    },
  ])('$name', async ({ files, add }) => {
    const first = await graph(files);
    const broken = Object.values(first.projects).find((p) => errorOf(p));
    expect(broken, Object.keys(first.projects).join(', ')).toBeDefined();
    const again = await graph(files, first.root);
    expect(again.projects).toEqual(first.projects); // served from the cache (same result)
    for (const [path, content] of Object.entries(add)) {
      mkdirSync(dirname(join(first.root, path)), { recursive: true });
      writeFileSync(join(first.root, path), content);
    }
    const fixed = await graph(files, first.root);
    expect(fixed.projects.late?.targets?.['docker-build']?.executor, Object.keys(fixed.projects).join(', ')).toBe(
      'nx-compose-buildx:docker-build',
    );
  });

  it('an unset required variable stays an error until it is set', async () => {
    const files = { 'bad/compose.yaml': svc('late', '    build: .\n    image: r/x:${NXCB_LATE_TAG:?set it}\n'), 'bad/Dockerfile': DF };
    const first = await graph(files);
    expect(errorOf(first.projects['bad-compose-error'])).toMatch(/set it/);
    process.env.NXCB_LATE_TAG = '1';
    try {
      const fixed = await graph(files, first.root);
      expect(fixed.projects.late.targets!['docker-build'].options.tags).toEqual(['r/x:1']);
    } finally {
      delete process.env.NXCB_LATE_TAG;
    }
  });
});
