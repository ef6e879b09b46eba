import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, type TempWorkspace } from '../support/workspace';
import { AFFECTED_FIXTURE } from './fixture';

const build = (...projects: string[]) => projects.map((p) => `${p}:docker-build`).sort();

/**
 * Each case commits one change in a temporary git repo and reads what
 * `nx affected --base=HEAD~1 --head=HEAD -t docker-build` selects (dependencies
 * excluded, so the list is exactly the selection).
 */
describe('nx affected -t docker-build selects exactly the services whose image can change', () => {
  let ws: TempWorkspace;
  beforeAll(async () => {
    ws = await createWorkspace({ files: AFFECTED_FIXTURE });
  });
  afterAll(() => ws?.dispose());

  const cases: Array<{ name: string; change: (ws: TempWorkspace) => void; selected: string[] }> = [
    {
      name: 'a file in a context selects it and the images built on it',
      change: (w) => w.write('a/main.sh', 'echo a2\n'),
      selected: build('a', 'b', 'e'),
    },
    { name: 'a file the .dockerignore drops selects nothing', change: (w) => w.write('a/NOTES.md', 'more notes\n'), selected: [] },
    { name: 'a file re-included with ! selects it', change: (w) => w.write('a/README.md', '# a v2\n'), selected: build('a', 'b', 'e') },
    { name: 'a file in an ignored folder selects nothing', change: (w) => w.write('a/docs/guide.txt', 'guide v2\n'), selected: [] },
    {
      name: 'a new file matched by ** in .dockerignore selects nothing',
      change: (w) => w.write('a/deep/x/cache.tmp', 'tmp\n'),
      selected: [],
    },
    { name: 'a new kept file selects it', change: (w) => w.write('a/deep/new.sh', 'echo new\n'), selected: build('a', 'b', 'e') },
    {
      name: 'the .dockerignore itself selects it',
      change: (w) => w.write('a/.dockerignore', '*.md\n!README.md\ndocs/\n**/*.tmp\n*.bak\n'),
      selected: build('a', 'b', 'e'),
    },
    {
      name: 'a Dockerfile outside the context selects it',
      change: (w) => w.write('dockerfiles/c.Dockerfile', 'FROM scratch\nCOPY main.sh /c2\n'),
      selected: build('c'),
    },
    {
      name: 'the Dockerfile-specific ignore file wins: a file it drops selects nothing',
      change: (w) => w.write('d/debug.log', 'log\n'),
      selected: [],
    },
    {
      name: 'the Dockerfile-specific ignore file wins: a file only .dockerignore drops selects it',
      change: (w) => w.write('d/notes.txt', 'txt\n'),
      selected: build('d'),
    },
    {
      name: 'a file in a local additional context selects its user',
      change: (w) => w.write('shared/lib.sh', 'echo lib2\n'),
      selected: build('e'),
    },
    {
      name: "an edit to one service's section of a shared compose file selects only it",
      change: (w) => w.write('compose.yaml', w.read('compose.yaml').replace('registry.local/app/c:latest', 'registry.local/app/c:v2')),
      selected: build('c'),
    },
    {
      name: 'an edit to the override file selects only the service it changes',
      change: (w) => w.write('compose.override.yaml', w.read('compose.override.yaml').replace('EXTRA: "1"', 'EXTRA: "2"')),
      selected: build('b'),
    },
    {
      name: 'a .env entry selects the services that interpolate it',
      change: (w) => w.write('.env', 'A_VERSION=2\nB_FLAG=on\nUNUSED=zzz\n'),
      selected: build('a', 'b', 'e'),
    },
    {
      name: 'a .env entry no service uses selects nothing',
      change: (w) => w.write('.env', 'A_VERSION=2\nB_FLAG=on\nUNUSED=yyy\n'),
      selected: [],
    },
    {
      name: 'a .env entry used by one service selects it',
      change: (w) => w.write('.env', 'A_VERSION=2\nB_FLAG=off\nUNUSED=yyy\n'),
      selected: build('b'),
    },
    { name: 'a file outside every context selects nothing', change: (w) => w.write('README.md', '# workspace v2\n'), selected: [] },
    {
      name: "the base image's Dockerfile selects it and its dependents",
      change: (w) => w.write('a/Dockerfile', 'FROM scratch\nCOPY . /app2\n'),
      selected: build('a', 'b', 'e'),
    },
    {
      name: 'a comment-only compose edit selects nothing',
      change: (w) => w.write('compose.yaml', `# a comment\n${w.read('compose.yaml')}`),
      selected: [],
    },
    // The root-context layout (mono/): every service has the context ".", inputs follow each Dockerfile.
    {
      name: "root context: one service's own file selects only it",
      change: (w) => w.write('mono/src/api/main.go', 'package main // 2\n'),
      selected: build('api'),
    },
    {
      name: 'root context: a new file in a COPYed folder selects its service',
      change: (w) => w.write('mono/src/worker/lib/util.sh', 'echo util\n'),
      selected: build('worker'),
    },
    {
      name: 'root context: a shared folder selects the services that COPY it',
      change: (w) => w.write('mono/pb/api.proto', 'syntax = "proto3"; // 2\n'),
      selected: build('api', 'web'),
    },
    {
      name: 'root context: a file no Dockerfile reads selects nothing',
      change: (w) => w.write('mono/docs/guide.txt', 'guide v2\n'),
      selected: [],
    },
    {
      name: 'root context: a file beside a COPY wildcard it does not match selects nothing',
      change: (w) => w.write('mono/src/web/notes.txt', 'notes v2\n'),
      selected: [],
    },
    {
      name: 'root context: a stage the target never reaches is not an input',
      change: (w) => w.write('mono/tools/dev.sh', 'echo dev2\n'),
      selected: [],
    },
    {
      name: 'an image only a stage the target never reaches uses is no dependency',
      change: (w) => w.write('b/main.sh', 'echo b2\n'),
      selected: build('b'),
    },
    {
      name: 'root context: a dockerignored file in a COPYed folder selects nothing',
      change: (w) => w.write('mono/src/api/debug.log', 'log\n'),
      selected: [],
    },
    {
      name: 'root context: a compose edit of one service selects only it',
      change: (w) =>
        w.write('mono/compose.yaml', w.read('mono/compose.yaml').replace('registry.local/mono/web:latest', 'registry.local/mono/web:v2')),
      selected: build('web'),
    },
    {
      name: 'root context: an .env variable used by one service selects only it',
      change: (w) => w.write('mono/.env', 'API_PORT=9090\nUNUSED=1\n'),
      selected: build('api'),
    },
    {
      name: 'root context: an .env variable no service uses selects nothing',
      change: (w) => w.write('mono/.env', 'API_PORT=9090\nUNUSED=2\n'),
      selected: [],
    },
    {
      name: "root context: one service's Dockerfile selects only it",
      change: (w) => w.write('mono/src/web/Dockerfile', 'FROM scratch\nCOPY pb /pb\nCOPY src/web/*.js /srv/\n'),
      selected: build('web'),
    },
  ];

  it.each(cases)('$name', async ({ change, selected }) => {
    change(ws);
    await ws.commit('change');
    expect(await ws.affected()).toEqual(selected);
  });

  it('a stale service lock never misses a rebuild: the compose files are watched whole', async () => {
    ws.write('compose.yaml', ws.read('compose.yaml').replace('build: ./d', 'build:\n      context: ./d\n      target: final'));
    await ws.git(['add', '-A']);
    await ws.git(['commit', '-q', '-m', 'edit without nx sync']);
    expect(await ws.affected()).toContain('d:docker-build');
  });
});
