import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, test } from 'vitest';
import { resetBuilderCache } from './builder';
import { DOCKER_INSPECT, fakeDeps, tmpContext } from './__fixtures__/fake-deps';
import type { BuildExecutorOptions } from './options';
import { runBuildBatch, type BatchTaskGraph, type BatchTaskResult } from './run-batch';

const opts = (service: string): BuildExecutorOptions => ({
  service,
  context: `apps/${service}`,
  dockerfile: `apps/${service}/Dockerfile`,
  platforms: ['linux/amd64'],
  args: {},
  tags: [`127.0.0.1:5000/${service}:1`],
  labels: {},
  cacheFrom: [],
  cacheTo: [],
  secrets: [],
  ssh: [],
  additionalContexts: {},
  extraHosts: [],
  metadataFile: `dist/docker/${service}/metadata.json`,
});

const task = (project: string) => ({ id: `${project}:docker-build`, target: { project, target: 'docker-build' } });
// api FROM base; worker alone
const graph: BatchTaskGraph = {
  tasks: { 'base:docker-build': task('base'), 'api:docker-build': task('api'), 'worker:docker-build': task('worker') },
  dependencies: { 'base:docker-build': [], 'api:docker-build': [{ id: 'base:docker-build' }], 'worker:docker-build': [] }, // Nx 24's edge shape
};
const inputs = { 'base:docker-build': opts('base'), 'api:docker-build': opts('api'), 'worker:docker-build': opts('worker') };

async function collect(it: AsyncIterable<BatchTaskResult>): Promise<BatchTaskResult[]> {
  const out: BatchTaskResult[] = [];
  for await (const r of it) out.push(r);
  return out;
}

beforeEach(() => resetBuilderCache());

describe('runBuildBatch', () => {
  test('builds in dependency order, inspects the builder and reads git once, keeps each task its own output', async () => {
    let gitReads = 0;
    const { deps, commands } = fakeDeps(
      (argv) =>
        argv[2] === 'inspect' ? { stdout: DOCKER_INSPECT } : argv[2] === 'build' ? { stderr: `#1 building ${argv.at(-1)}` } : undefined,
      { gitFacts: async () => (gitReads++, { sha: 'abc', defaultBranch: 'main', branch: 'main' }) },
    );
    const results = await collect(runBuildBatch('build', graph, inputs, { ...tmpContext(), nxJsonConfiguration: { parallel: 2 } }, deps));
    const order = commands().filter((c) => c.includes(' build '));
    expect(order.map((c) => c.split(' ').at(-1))).toEqual(['apps/base', 'apps/worker', 'apps/api']);
    expect(commands().filter((c) => c.includes('inspect'))).toHaveLength(1);
    expect(gitReads).toBe(1);
    expect(results.map((r) => [r.task, r.result.success])).toEqual([
      ['base:docker-build', true],
      ['worker:docker-build', true],
      ['api:docker-build', true],
    ]);
    const api = results.find((r) => r.task === 'api:docker-build')!.result.terminalOutput;
    expect(api).toContain('[api] docker-build: linux/amd64');
    expect(api).toContain('#1 building apps/api');
    expect(api).not.toContain('apps/base');
  });

  test("no task's output reaches the shared stdout: BuildKit's progress is captured, not streamed", async () => {
    const shared: string[] = [];
    const streamed: boolean[] = [];
    const { deps } = fakeDeps(() => undefined, {
      log: (line) => shared.push(line),
      run: async (argv, options) => {
        streamed.push(Boolean(options.stream || options.prefix));
        return {
          exitCode: 0,
          stdout: argv[2] === 'inspect' ? DOCKER_INSPECT : '',
          stderr: argv[2] === 'build' ? `#5 DONE ${argv.at(-1)}` : '',
          command: '',
        };
      },
    });
    const results = await collect(runBuildBatch('build', graph, inputs, { ...tmpContext(), nxJsonConfiguration: {} }, deps));
    expect(shared).toEqual([]);
    expect(streamed.length).toBeGreaterThan(0);
    expect(streamed.every((s) => !s)).toBe(true);
    expect(results.find((r) => r.task === 'worker:docker-build')!.result.terminalOutput).toContain('#5 DONE apps/worker');
  });

  test('a failed build skips its dependents and the rest still runs', async () => {
    const { deps, commands } = fakeDeps((argv) =>
      argv[2] === 'inspect'
        ? { stdout: DOCKER_INSPECT }
        : argv[2] === 'build' && argv.at(-1) === 'apps/base'
          ? { exitCode: 1, stderr: 'boom' }
          : undefined,
    );
    const results = await collect(runBuildBatch('build', graph, inputs, { ...tmpContext(), nxJsonConfiguration: {} }, deps));
    expect(Object.fromEntries(results.map((r) => [r.task, r.result.status]))).toEqual({
      'base:docker-build': 'failure',
      'worker:docker-build': 'success',
      'api:docker-build': 'skipped',
    });
    expect(commands().some((c) => c.endsWith('apps/api'))).toBe(false);
    expect(results.find((r) => r.task === 'api:docker-build')!.result.terminalOutput).toMatch(/skipped: base:docker-build failed/);
  });

  test('at most `parallel` builds at once', async () => {
    const many: BatchTaskGraph = { tasks: {}, dependencies: {} };
    const manyInputs: Record<string, BuildExecutorOptions> = {};
    for (const s of ['a', 'b', 'c', 'd', 'e']) {
      many.tasks[`${s}:docker-build`] = task(s);
      many.dependencies[`${s}:docker-build`] = [];
      manyInputs[`${s}:docker-build`] = opts(s);
    }
    let inFlight = 0;
    let most = 0;
    const { deps } = fakeDeps(() => undefined, {
      run: async (argv) => {
        if (argv[2] !== 'build') return { exitCode: 0, stdout: argv[2] === 'inspect' ? DOCKER_INSPECT : '', stderr: '', command: '' };
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        return { exitCode: 0, stdout: '', stderr: '', command: '' };
      },
    });
    const results = await collect(
      runBuildBatch('build', many, manyInputs, { ...tmpContext(), nxJsonConfiguration: { parallel: 2 } }, deps),
    );
    expect(results).toHaveLength(5);
    expect(results.every((r) => r.result.success)).toBe(true);
    expect(most).toBe(2);
  });

  test('more tasks are in flight than builds: every registry lookup is asked while the one build slot is busy', async () => {
    const services = ['a', 'b', 'c', 'd', 'e'];
    const ctx = { ...tmpContext(), nxJsonConfiguration: { parallel: 1 } };
    const push: BatchTaskGraph = { tasks: {}, dependencies: {} };
    const pushInputs: Record<string, BuildExecutorOptions> = {};
    for (const s of services) {
      mkdirSync(join(ctx.root, `apps/${s}`), { recursive: true });
      writeFileSync(join(ctx.root, `apps/${s}/Dockerfile`), 'FROM scratch\nCOPY . /\n');
      push.tasks[`${s}:docker-push`] = { id: `${s}:docker-push`, target: { project: s, target: 'docker-push' } };
      push.dependencies[`${s}:docker-push`] = [];
      pushInputs[`${s}:docker-push`] = { ...opts(s), metadataFile: `dist/docker/${s}/push-metadata.json` };
    }
    const lookups: string[] = [];
    let lookupsAtFirstBuild: number | undefined;
    const { deps } = fakeDeps(() => undefined, {
      run: async (argv) => {
        const ok = (stdout = '') => ({ exitCode: 0, stdout, stderr: '', command: '' });
        if (argv[2] === 'inspect') return ok(DOCKER_INSPECT);
        if (argv[2] === 'imagetools' && argv[3] === 'inspect' && argv.at(-1)!.includes(':nxcb-')) {
          lookups.push(argv.at(-1)!);
          return { exitCode: 1, stdout: '', stderr: 'ERROR: not found', command: '' }; // every key misses
        }
        if (argv[2] === 'build' && lookupsAtFirstBuild === undefined) {
          // the first build holds the only slot until every task has asked the registry (or 2 s pass)
          for (let i = 0; i < 200 && lookups.length < services.length; i++) await new Promise((r) => setTimeout(r, 10));
          lookupsAtFirstBuild = lookups.length;
        }
        return ok();
      },
    });
    const results = await collect(runBuildBatch('push', push, pushInputs, ctx, deps));
    expect(results).toHaveLength(services.length);
    expect(lookupsAtFirstBuild).toBe(services.length);
  });
});
