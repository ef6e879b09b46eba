/**
 * Nx batch mode for docker-build and docker-push (`preferBatch`): every task of one executor in a
 * run goes to one process. Each task still gets its own `docker buildx build`, but the batch pays
 * for one Nx worker start, one git read and one builder inspect instead of one per service: on a
 * cold build of many small images those were a large part of the time. More tasks are in flight
 * than builds run at once (batch-schedule.ts tasksInFlight): a registry hit builds nothing.
 */
import type { ExecutorContext } from '@nx/devkit';
import type { BuildMode } from '../../../buildx/argv';
import type { GitFacts } from '../../../buildx/tags';
import { slotPool } from '../../../run/slot-pool';
import { repositoryOf } from '../../../buildx/image-ref';
import { batchConcurrency, nextBatchStep, tasksInFlight, type TaskEdge } from './batch-schedule';
import { externalDigestsExcept } from './registry';
import { defaultDeps, type ExecutorDeps } from './deps';
import type { BuildExecutorOptions } from './options';
import { runBuildExecutor } from './run-build';

/** The part of Nx's TaskGraph a batch needs. */
export interface BatchTaskGraph {
  tasks: Record<string, { id: string; target: { project: string; target: string; configuration?: string } }>;
  dependencies: Record<string, TaskEdge[]>;
}

export interface BatchTaskResult {
  task: string;
  result: { success: boolean; terminalOutput: string; startTime: number; endTime: number; status?: 'success' | 'failure' | 'skipped' };
}

/**
 * Deps for one task of the batch. Its lines, BuildKit's progress included, are kept for its own
 * terminal output and written nowhere else: several builds run at once in this one process, and
 * their output streamed live would interleave line by line. Nx prints each task's output with
 * the task (static output) or in the task's pane (TUI). Git is read once for the batch.
 */
function taskDeps(
  base: ExecutorDeps,
  lines: string[],
  facts: () => Promise<GitFacts | undefined>,
  buildSlot: NonNullable<ExecutorDeps['buildSlot']>,
): ExecutorDeps {
  return {
    ...base,
    buildSlot,
    isTTY: false, // plain progress: it ends up in a captured log, not on a terminal
    gitFacts: () => facts(),
    log: (line) => lines.push(line),
    run: async (argv, { stream, prefix, ...options }) => {
      const r = await base.run(argv, options);
      if (stream) {
        for (const out of [r.stderr, r.stdout]) {
          if (out.trim()) for (const line of out.trimEnd().split('\n')) lines.push(`${prefix ?? ''}${line}`);
        }
      }
      return r;
    },
  };
}

export async function* runBuildBatch(
  mode: BuildMode,
  taskGraph: BatchTaskGraph,
  inputs: Record<string, BuildExecutorOptions>,
  context: ExecutorContext,
  base: ExecutorDeps = defaultDeps(),
): AsyncGenerator<BatchTaskResult> {
  const graph = { tasks: Object.keys(taskGraph.tasks), dependencies: taskGraph.dependencies };
  const builds = batchConcurrency(base.env, context.nxJsonConfiguration?.parallel);
  const buildSlot = slotPool(builds);
  const slots = tasksInFlight(builds, base.registry !== undefined);
  let factsOnce: Promise<GitFacts | undefined> | undefined;
  const facts = () => (factsOnce ??= base.gitFacts(context.root));
  const pushedRepositories = new Set(Object.values(inputs).flatMap((o) => (o.tags ?? []).map(repositoryOf)));
  const shared: ExecutorDeps = { ...base, externalDigests: base.externalDigests ?? externalDigestsExcept(pushedRepositories) };

  const runOne = async (id: string): Promise<BatchTaskResult> => {
    const task = taskGraph.tasks[id]!;
    const lines: string[] = [];
    const startTime = Date.now();
    const taskContext: ExecutorContext = {
      ...context,
      projectName: task.target.project,
      targetName: task.target.target,
      ...(task.target.configuration ? { configurationName: task.target.configuration } : {}),
    };
    const { success } = await runBuildExecutor(mode, inputs[id]!, taskContext, taskDeps(shared, lines, facts, buildSlot));
    return {
      task: id,
      result: { success, status: success ? 'success' : 'failure', terminalOutput: `${lines.join('\n')}\n`, startTime, endTime: Date.now() },
    };
  };

  const running = new Map<string, Promise<BatchTaskResult>>();
  const succeeded = new Set<string>();
  const failed = new Set<string>();
  for (;;) {
    const step = nextBatchStep(graph, { running: new Set(running.keys()), succeeded, failed }, slots - running.size);
    for (const { task, because } of step.skip) {
      failed.add(task);
      const now = Date.now();
      const line = `[${task}] skipped: ${because} failed`;
      yield { task, result: { success: false, status: 'skipped', terminalOutput: `${line}\n`, startTime: now, endTime: now } };
    }
    for (const id of step.start) running.set(id, runOne(id));
    if (running.size === 0) {
      if (step.skip.length) continue;
      break;
    }
    const done = await Promise.race(running.values());
    running.delete(done.task);
    (done.result.success ? succeeded : failed).add(done.task);
    yield done;
  }
  // Only a dependency cycle inside the batch could leave tasks behind; report rather than hang.
  for (const task of graph.tasks) {
    if (succeeded.has(task) || failed.has(task)) continue;
    const now = Date.now();
    yield {
      task,
      result: {
        success: false,
        status: 'failure',
        terminalOutput: `[${task}] not run: its dependencies in this batch form a cycle\n`,
        startTime: now,
        endTime: now,
      },
    };
  }
}
