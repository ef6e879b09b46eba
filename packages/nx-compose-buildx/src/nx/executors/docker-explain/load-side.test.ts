import { describe, expect, it } from 'vitest';
import type { RunFn } from '../../../run/exec';
import { commitSource, loadSide } from './load-side';

/** A commit as `git ls-tree -r -t -z` and `git cat-file blob` serve it, from workspace-relative paths → texts. */
function fakeGit(files: Record<string, string>, links: Record<string, string> = {}): { run: RunFn; reads: string[] } {
  const reads: string[] = [];
  const dirs = new Set<string>();
  files = { ...files, ...links }; // a symlink's blob is its target
  for (const p of Object.keys(files)) for (let d = p; d.includes('/');) dirs.add((d = d.slice(0, d.lastIndexOf('/'))));
  const entries = [
    ...[...dirs].map((d) => `040000 tree t\t${d}`),
    ...Object.keys(files).map((p) => `${p in links ? '120000' : '100644'} blob ${Buffer.from(p).toString('hex')}\t${p}`),
  ];
  const run: RunFn = async (argv) => {
    const ok = (stdout: string) => ({ exitCode: 0, stdout, stderr: '', command: argv.join(' ') });
    if (argv[1] === 'ls-tree') return ok(`${entries.join('\0')}\0`);
    if (argv[1] === 'cat-file') {
      const path = Buffer.from(argv[3]!, 'hex').toString();
      reads.push(path);
      return ok(files[path]!);
    }
    return { exitCode: 1, stdout: '', stderr: 'unexpected', command: argv.join(' ') };
  };
  return { run, reads };
}

describe('loadSide at a commit', () => {
  it('loads extends and .env across passes, then the Dockerfile and ignore file, with each arg located', async () => {
    const git = fakeGit({
      'app/compose.yaml':
        'services:\n  api:\n    extends: { file: common/base.yaml, service: base }\n    image: r/api:${TAG}\n    build:\n      args:\n        EXTRA: x\n',
      'app/common/base.yaml': 'services:\n  base:\n    build:\n      context: ../api\n      args:\n        VERSION: "1.0"\n',
      'app/.env': 'TAG=7\n',
      'app/api/Dockerfile': 'FROM scratch\nCOPY src/ /src/\n',
      'app/api/.dockerignore': '*.log\n',
      'app/api/src/main.sh': 'echo\n',
    });
    const source = await commitSource('/ws', 'c0ffee', git.run);
    const loaded = await loadSide(source, '/ws', { workingDir: 'app' }, 'api', {});
    expect('side' in loaded).toBe(true);
    if (!('side' in loaded)) return;
    const { spec, locations, ignoreFile, ignorePatterns, reads, dockerfileText } = loaded.side;
    expect(spec).toMatchObject({
      context: 'app/api',
      dockerfile: 'app/api/Dockerfile',
      args: { EXTRA: 'x', VERSION: '1.0' },
      tags: ['r/api:7'],
    });
    expect(locations['build.args.EXTRA']).toEqual({ file: 'app/compose.yaml', line: 7 });
    // set through extends: the file and line of the service extended
    expect(locations['build.args.VERSION']).toEqual({ file: 'app/common/base.yaml', line: 6 });
    expect(locations['build.context']).toEqual({ file: 'app/common/base.yaml', line: 4 });
    expect(locations.image).toEqual({ file: 'app/compose.yaml', line: 4 });
    expect(ignoreFile).toBe('app/api/.dockerignore');
    expect(ignorePatterns).toEqual(['*.log', '']);
    expect(dockerfileText).toBe('FROM scratch\nCOPY src/ /src/\n');
    expect(reads.context).toMatchObject({ whole: false, paths: ['src'] });
    expect(git.reads).not.toContain('app/api/src/main.sh'); // only what the loaders ask for is read
  });

  it('a service the commit does not have is absent; a broken compose file is an error naming it', async () => {
    const absent = await loadSide(
      await commitSource('/ws', 'c', fakeGit({ 'compose.yaml': 'services:\n  web:\n    image: x\n' }).run),
      '/ws',
      { workingDir: '.' },
      'api',
      {},
    );
    expect(absent).toEqual({ absent: true });
    const broken = await loadSide(
      await commitSource('/ws', 'c', fakeGit({ 'compose.yaml': 'services: [\n' }).run),
      '/ws',
      { workingDir: '.' },
      'api',
      {},
    );
    expect(broken).toMatchObject({ error: expect.stringMatching(/^compose\.yaml/) });
  });

  it("the context's symlinks at that commit are followed, as the graph follows them", async () => {
    const git = fakeGit(
      {
        'compose.yaml': 'services:\n  api:\n    build: ./api\n',
        'api/Dockerfile': 'FROM scratch\nCOPY conf.txt /conf.txt\n',
        'api/shared/conf.txt': 'conf\n',
      },
      { 'api/conf.txt': 'shared/conf.txt', 'other/link': '../api' },
    );
    const loaded = await loadSide(await commitSource('/ws', 'c', git.run), '/ws', { workingDir: '.' }, 'api', {});
    expect(loaded).toMatchObject({ side: { reads: { context: { whole: false, paths: ['conf.txt', 'shared/conf.txt'] } } } });
    expect(git.reads).toContain('api/conf.txt'); // the link's target, read from its blob
    expect(git.reads).not.toContain('other/link'); // outside the context
  });
});
