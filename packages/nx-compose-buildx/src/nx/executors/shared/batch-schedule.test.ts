import { describe, expect, test } from 'vitest';
import { batchConcurrency, nextBatchStep, tasksInFlight, TASKS_IN_FLIGHT, type BatchGraph } from './batch-schedule';

const set = (...xs: string[]) => new Set(xs);
const idle = { running: set(), succeeded: set(), failed: set() };

// api FROM base; docs FROM api; worker alone
const graph: BatchGraph = {
  tasks: ['base', 'api', 'docs', 'worker'],
  dependencies: { base: [], api: ['base'], docs: ['api'], worker: [] },
};

describe('nextBatchStep', () => {
  test.each([
    ['nothing run yet: the roots start', idle, 8, ['base', 'worker'], []],
    ['slots cap how many start', idle, 1, ['base'], []],
    ['a dependency running: its dependents wait', { ...idle, running: set('base', 'worker') }, 8, [], []],
    ['a dependency succeeded: the next level starts', { ...idle, running: set('worker'), succeeded: set('base') }, 8, ['api'], []],
    [
      'a dependency failed: dependents are skipped, others go on',
      { ...idle, failed: set('base') },
      8,
      ['worker'],
      [{ task: 'api', because: 'base' }],
    ],
    [
      'a skipped task fails its own dependents in turn',
      { ...idle, failed: set('base', 'api'), succeeded: set('worker') },
      8,
      [],
      [{ task: 'docs', because: 'api' }],
    ],
    ['all done: nothing to do', { ...idle, succeeded: set('base', 'api', 'docs', 'worker') }, 8, [], []],
  ] as const)('%s', (_name, progress, slots, start, skip) => {
    expect(nextBatchStep(graph, progress, slots)).toEqual({ start, skip });
  });

  test('dependencies outside the batch (already run by Nx) and self-edges are ignored', () => {
    const g: BatchGraph = { tasks: ['a', 'b'], dependencies: { a: ['outside:docker-build', 'a'], b: ['a'] } };
    expect(nextBatchStep(g, idle, 8)).toEqual({ start: ['a'], skip: [] });
  });
});

test('Nx 24 edges ({ id }) count like plain ids', () => {
  const g: BatchGraph = { tasks: ['base', 'api'], dependencies: { base: [], api: [{ id: 'base' }] } };
  expect(nextBatchStep(g, idle, 8)).toEqual({ start: ['base'], skip: [] });
  expect(nextBatchStep(g, { ...idle, failed: set('base') }, 8)).toEqual({ start: [], skip: [{ task: 'api', because: 'base' }] });
});

describe('batchConcurrency', () => {
  test.each([
    [{ NX_PARALLEL: '6' }, 2, 6],
    [{}, 5, 5],
    [{}, undefined, 3],
    [{ NX_PARALLEL: 'x' }, '0', 3],
  ] as const)('%j, nx.json %j → %d', (env, json, expected) => {
    expect(batchConcurrency(env, json)).toBe(expected);
  });
});

describe('tasksInFlight', () => {
  test.each<[string, number, boolean, number]>([
    ['registry API: every task of a typical batch', 3, true, TASKS_IN_FLIGHT.registryApi],
    ['docker CLI: a process per lookup, fewer at once', 3, false, TASKS_IN_FLIGHT.dockerCli],
    ['never fewer than the build slots', TASKS_IN_FLIGHT.registryApi + 4, true, TASKS_IN_FLIGHT.registryApi + 4],
    ['never fewer than the build slots, through the CLI', 20, false, 20],
  ])('%s', (_, builds, api, expected) => {
    expect(tasksInFlight(builds, api)).toBe(expected);
  });
});
