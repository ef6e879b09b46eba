/**
 * SOURCE_DATE_EPOCH of one task: the time of the last commit that changed the task's own inputs,
 * as the graph computes them (the files its Dockerfile reads from each context, the Dockerfile, the
 * ignore file, its lock entry or its compose files), not HEAD's. So an unchanged service is built
 * with the same epoch at every later commit, and with BuildKit's rewrite-timestamp (build-plan.ts)
 * gives the same digest even when nothing comes from a cache. The OCI created/revision labels
 * follow the same commit (buildx/labels.ts).
 *
 * The images it builds on are left out on purpose: a changed base changes the layers anyway.
 *
 *   inputs → history query   pure (historyQueryOf): Nx input globs become git pathspecs; a
 *                            `{json, fields}` input (the lock entry) becomes a search of that
 *                            file's diffs for the entry's line (jsonKeyLineTest)
 *   history query → commit   git: one `git log -1` for the pathspecs (run/git.ts lastCommitOf), and
 *                            one walk of each JSON file's diffs (fileLineHistory), kept for every
 *                            task of the run (a batch asks it once, not once per service)
 */
import type { ExecutorContext, TargetConfiguration } from '@nx/devkit';
import { fileLineHistory, lastCommitOf, type CommitStamp, type LineChange } from '../../../run/git';
import type { RunFn } from '../../../run/exec';

type InputDefinition = NonNullable<TargetConfiguration['inputs']>[number];

/** What to ask git: files (pathspecs, negations as excludes) and JSON entries (file + key). */
export interface HistoryQuery {
  pathspecs: string[];
  jsonKeys: Array<{ file: string; key: string }>;
}

/** `{workspaceRoot}/a/**` → `a/**`; `{projectRoot}/x` → `<root>/x`; anything else: not a file glob. */
function workspaceGlob(glob: string, projectRoot: string): string | undefined {
  const m = /^\{(workspaceRoot|projectRoot)\}\/?(.*)$/.exec(glob);
  if (!m) return undefined;
  const rest = m[2]!;
  if (m[1] === 'workspaceRoot') return rest || '**';
  const root = projectRoot.replace(/\/+$/, '');
  return root && root !== '.' ? `${root}/${rest}` : rest || '**';
}

/** git's glob magic reads the same wildcards and backslash escapes as the Nx globs the graph writes. */
const pathspec = (glob: string, exclude: boolean) => `:(${exclude ? 'exclude,' : ''}glob)${glob}`;

/**
 * The history query of a target's inputs. Named inputs are expanded (the project's, then nx.json's);
 * `^…` (the dependencies' inputs), `{env}`, `{runtime}` and the like have no history and are skipped.
 */
export function historyQueryOf(
  inputs: readonly InputDefinition[],
  named: Record<string, readonly InputDefinition[] | undefined>,
  projectRoot: string,
): HistoryQuery {
  const positive = new Set<string>();
  const negative = new Set<string>();
  const jsonKeys = new Map<string, { file: string; key: string }>();
  const seen = new Set<string>();
  const visit = (input: InputDefinition): void => {
    if (typeof input === 'string') {
      if (input.startsWith('^')) return;
      const negated = input.startsWith('!');
      const glob = workspaceGlob(negated ? input.slice(1) : input, projectRoot);
      if (glob !== undefined) {
        (negated ? negative : positive).add(glob);
        return;
      }
      if (seen.has(input)) return; // a named input
      seen.add(input);
      for (const inner of named[input] ?? []) visit(inner);
      return;
    }
    const record = input as Record<string, unknown>;
    if (typeof record.fileset === 'string') visit(record.fileset);
    else if (typeof record.json === 'string' && Array.isArray(record.fields)) {
      const file = workspaceGlob(record.json, projectRoot);
      if (file === undefined) return;
      for (const field of record.fields as unknown[]) {
        if (typeof field !== 'string') continue;
        // Nx reads fields as dotted paths; the entry's line names the last segment.
        const key = field.split('.').pop()!;
        jsonKeys.set(`${file}\0${key}`, { file, key });
      }
    } else if (typeof record.input === 'string' && !record.dependencies && record.projects === undefined) {
      visit(record.input);
    }
  };
  for (const input of inputs) visit(input);
  const pathspecs = positive.size
    ? [...[...positive].sort().map((g) => pathspec(g, false)), ...[...negative].sort().map((g) => pathspec(g, true))]
    : [];
  return { pathspecs, jsonKeys: [...jsonKeys.values()] };
}

/** The task's inputs as Nx resolved them for this run, or undefined when the executor runs outside a project graph. */
export function taskHistoryQuery(context: ExecutorContext): HistoryQuery | undefined {
  const project = context.projectName ? context.projectsConfigurations?.projects?.[context.projectName] : undefined;
  const target = context.targetName ? project?.targets?.[context.targetName] : undefined;
  if (!project || !target?.inputs) return undefined;
  const named: Record<string, readonly InputDefinition[] | undefined> = {
    ...(context.nxJsonConfiguration?.namedInputs ?? {}),
    ...(project.namedInputs ?? {}),
  };
  const query = historyQueryOf(target.inputs, named, project.root);
  return query.pathspecs.length || query.jsonKeys.length ? query : undefined;
}

/** Matches the line of one key in a JSON file written with one entry per line (the lock file). */
export function jsonKeyLineTest(key: string): RegExp {
  return new RegExp(`^\\s*${JSON.stringify(key).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:`);
}

/** JSON file histories already walked in this run, by workspace and file (one per executor process or batch). */
export type FileHistories = Map<string, Promise<LineChange[] | undefined>>;

/** The last commit that added or removed the key's line: what `git log -1 -G<that line>` would answer. */
export function lastKeyChange(history: readonly LineChange[], key: string): CommitStamp | undefined {
  const test = jsonKeyLineTest(key);
  return history.find((c) => c.lines.some((l) => test.test(l)))?.commit;
}

/**
 * The newest of the commits that last changed each part of the query, or undefined when git knows
 * none. `histories` keeps each JSON file's walk for the next task that asks (one git for the batch).
 */
export async function lastInputCommit(
  query: HistoryQuery,
  cwd: string,
  run?: RunFn,
  histories: FileHistories = new Map(),
): Promise<CommitStamp | undefined> {
  const historyOf = (file: string) => {
    const id = `${cwd}\0${file}`;
    let h = histories.get(id);
    if (!h) histories.set(id, (h = fileLineHistory(cwd, file, run)));
    return h;
  };
  const parts = await Promise.all([
    query.pathspecs.length ? lastCommitOf(cwd, { pathspecs: query.pathspecs }, run) : undefined,
    ...query.jsonKeys.map(async (k) => {
      const history = await historyOf(k.file);
      return history && lastKeyChange(history, k.key);
    }),
  ]);
  let newest: CommitStamp | undefined;
  for (const p of parts) if (p && (!newest || p.time > newest.time)) newest = p;
  return newest;
}
