import { describe, expect, it } from 'vitest';
import type { RunCommandOptions, RunResult } from '../run/exec';
import { RegistryFallback } from '../run/registry-http';
import { postTasksExecution, type SummaryDeps } from './post-tasks-execution';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

function result(project: string, target: string, status: string, outputs: string[], times = { startTime: 1000, endTime: 3500 }) {
  return {
    task: { id: `${project}:${target}`, target: { project, target }, overrides: {}, outputs, cache: true, ...times },
    status,
    code: status === 'failure' ? 1 : 0,
  };
}

function fakeDeps(files: Record<string, unknown>, env: Record<string, string> = {}) {
  const printed: string[] = [];
  const appended: Array<[string, string]> = [];
  const runs: string[][] = [];
  const deps: SummaryDeps = {
    run: async (argv: readonly string[], _o: RunCommandOptions): Promise<RunResult> => {
      runs.push([...argv]);
      const ref = argv[argv.length - 1]!;
      const size = ref.endsWith(D1) ? 1000 : 3000;
      return { exitCode: 0, stdout: JSON.stringify({ layers: [{ size }, { size: 24 }] }), stderr: '', command: argv.join(' ') };
    },
    readText: (path) => (path in files ? JSON.stringify(files[path]) : undefined),
    print: (t) => printed.push(t),
    appendStepSummary: (path, text) => appended.push([path, text]),
    env,
  };
  return { deps, printed, appended, runs };
}

const context = (taskResults: Record<string, unknown>) =>
  ({ id: 'x', workspaceRoot: '/ws', nxJsonConfiguration: {}, argv: [], startTime: 0, endTime: 1, taskResults }) as never;

describe('postTasksExecution', () => {
  it('prints one row per service × platform with sizes from the registry, and appends markdown on GitHub', async () => {
    const { deps, printed, appended, runs } = fakeDeps(
      {
        '/ws/dist/docker/api/push-metadata.json': {
          service: 'api',
          tags: ['127.0.0.1:5000/shop/api:1'],
          platforms: { 'linux/amd64': { digest: D1 }, 'linux/arm64': { digest: D2 } },
          pushed: true,
          loaded: false,
        },
        '/ws/dist/docker/base/metadata.json': {
          service: 'base',
          tags: ['base:1'],
          platforms: { 'linux/amd64': { digest: D2 } },
          pushed: false,
          loaded: true,
        },
      },
      { GITHUB_STEP_SUMMARY: '/gh/summary.md' },
    );
    await postTasksExecution(
      undefined,
      context({
        'api:docker-push': result('api', 'docker-push', 'success', ['dist/docker/api/push-metadata.json']),
        'base:docker-build': result('base', 'docker-build', 'local-cache', ['dist/docker/base/metadata.json']),
        'api:lint': result('api', 'lint', 'success', []),
      }),
      deps,
    );
    expect(runs).toEqual([
      ['docker', 'buildx', 'imagetools', 'inspect', '--raw', `127.0.0.1:5000/shop/api@${D1}`],
      ['docker', 'buildx', 'imagetools', 'inspect', '--raw', `127.0.0.1:5000/shop/api@${D2}`],
    ]);
    const out = printed.join('');
    expect(out).toContain('3 image(s): 2 pushed, 1 cached');
    expect(out).toMatch(/api\s+linux\/amd64\s+111111111111\s+1\.0 KiB\s+pushed\s+2\.5 s/);
    expect(out).toMatch(/api\s+linux\/arm64\s+222222222222\s+3\.0 KiB\s+pushed/);
    expect(out).toMatch(/base\s+linux\/amd64\s+222222222222\s+-\s+cached\s+-/);
    expect(out).not.toContain('lint');
    expect(appended).toHaveLength(1);
    expect(appended[0]![0]).toBe('/gh/summary.md');
    expect(appended[0]![1]).toContain('| api | linux/amd64 | `111111111111` | 1.0 KiB | pushed | 2.5 s |');
  });

  it('sizes through the registry API: no docker process; a lookup it cannot answer goes to the CLI', async () => {
    const { deps, printed, runs } = fakeDeps({
      '/ws/dist/docker/api/push-metadata.json': {
        service: 'api',
        tags: ['127.0.0.1:5000/shop/api:1'],
        platforms: { 'linux/amd64': { digest: D1 }, 'linux/arm64': { digest: D2 } },
        pushed: true,
        loaded: false,
      },
    });
    const asked: string[] = [];
    const manifest = (size: number) => Buffer.from(JSON.stringify({ layers: [{ size }, { size: 24 }] }));
    deps.registry = {
      getManifest: async (ref) => {
        asked.push(ref);
        if (ref.endsWith(D2)) throw new RegistryFallback('HTTP 500');
        return { bytes: manifest(1000), mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D1 };
      },
      getBlob: async () => Buffer.from(''),
      putManifest: async () => D1,
      withTimeout: () => deps.registry!,
    };
    await postTasksExecution(
      undefined,
      context({ 'api:docker-push': result('api', 'docker-push', 'success', ['dist/docker/api/push-metadata.json']) }),
      deps,
    );
    expect(asked).toEqual([`127.0.0.1:5000/shop/api@${D1}`, `127.0.0.1:5000/shop/api@${D2}`]);
    expect(runs).toEqual([['docker', 'buildx', 'imagetools', 'inspect', '--raw', `127.0.0.1:5000/shop/api@${D2}`]]);
    expect(printed.join('')).toMatch(/api\s+linux\/amd64\s+111111111111\s+1\.0 KiB\s+pushed/);
    expect(printed.join('')).toMatch(/api\s+linux\/arm64\s+222222222222\s+3\.0 KiB\s+pushed/);
  });

  it('a failed task (its metadata removed) still gets a row; no GitHub summary outside Actions', async () => {
    const { deps, printed, appended } = fakeDeps({});
    await postTasksExecution(
      undefined,
      context({ 'w:docker-build': result('w', 'docker-build', 'failure', ['dist/docker/w/metadata.json']) }),
      deps,
    );
    expect(printed.join('')).toMatch(/w\s+\(default\)\s+-\s+-\s+failed/);
    expect(appended).toEqual([]);
  });

  it('prints nothing for a run with no task of ours', async () => {
    const { deps, printed } = fakeDeps({});
    await postTasksExecution(undefined, context({ 'a:test': result('a', 'test', 'success', []) }), deps);
    expect(printed).toEqual([]);
  });

  it('never fails the run', async () => {
    const { deps, printed } = fakeDeps({});
    deps.readText = () => {
      throw new Error('disk gone');
    };
    await expect(
      postTasksExecution(undefined, context({ 'a:docker-build': result('a', 'docker-build', 'success', ['dist/x.json']) }), deps),
    ).resolves.toBeUndefined();
    expect(printed.join('')).toContain('no run summary (disk gone)');
  });
});
