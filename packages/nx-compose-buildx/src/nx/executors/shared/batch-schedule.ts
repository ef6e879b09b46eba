/**
 * Order inside an Nx batch: which tasks may start now, and which can never run because a task they
 * depend on failed. Pure; `run-batch.ts` drives it. Dependencies outside the batch have already run
 * (Nx starts a batch only when they are done), so only edges between batch tasks count.
 */
export interface BatchGraph {
  /** Task ids in the order Nx listed them. */
  tasks: readonly string[];
  /** Task id → what it depends on: task ids, or (Nx 24's task graph) edges `{ id }`. */
  dependencies: Readonly<Record<string, readonly TaskEdge[] | undefined>>;
}

export type TaskEdge = string | { id: string };
const edgeId = (e: TaskEdge): string => (typeof e === 'string' ? e : e.id);

export interface BatchProgress {
  running: ReadonlySet<string>;
  succeeded: ReadonlySet<string>;
  /** Failed or skipped: either way its dependents cannot run. */
  failed: ReadonlySet<string>;
}

export interface BatchStep {
  /** Tasks to start now, at most `slots` of them, in the batch's order. */
  start: string[];
  /** Tasks that will never run because one of their dependencies failed or was skipped. */
  skip: { task: string; because: string }[];
}

export function nextBatchStep(graph: BatchGraph, progress: BatchProgress, slots: number): BatchStep {
  const inBatch = new Set(graph.tasks);
  const start: string[] = [];
  const skip: BatchStep['skip'] = [];
  for (const task of graph.tasks) {
    if (progress.running.has(task) || progress.succeeded.has(task) || progress.failed.has(task)) continue;
    const deps = (graph.dependencies[task] ?? []).map(edgeId).filter((d) => inBatch.has(d) && d !== task);
    const failedDep = deps.find((d) => progress.failed.has(d));
    if (failedDep) {
      skip.push({ task, because: failedDep });
      continue;
    }
    if (start.length < slots && deps.every((d) => progress.succeeded.has(d))) start.push(task);
  }
  return { start, skip };
}

/** How many builds a batch runs at once: `NX_PARALLEL`, else nx.json `parallel`, else Nx's default 3. */
export function batchConcurrency(env: Record<string, string | undefined>, nxJsonParallel: unknown): number {
  const fromEnv = Number(env.NX_PARALLEL);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  const fromJson = Number(nxJsonParallel);
  if (Number.isInteger(fromJson) && fromJson > 0) return fromJson;
  return 3;
}

/**
 * How many tasks of a batch are in flight at once. More than the build slots: a task spends most
 * of its time before any build (the content key, the registry lookup), and a registry hit builds
 * nothing at all, so a release of many unchanged services would otherwise queue behind the few
 * slots that builds need, and a changed service late in the batch would start its build late (at
 * 12, the 26th of 50 started its build 3 s into the batch). Builds still take a slot each
 * (buildSlots). With the registry API a lookup is a few in-process requests, so every task of a
 * typical batch may be in flight; through the docker CLI each is a process, and 12 bound them.
 */
export const TASKS_IN_FLIGHT = { registryApi: 64, dockerCli: 12 };

export function tasksInFlight(buildSlots: number, registryApi = true): number {
  return Math.max(buildSlots, registryApi ? TASKS_IN_FLIGHT.registryApi : TASKS_IN_FLIGHT.dockerCli);
}
