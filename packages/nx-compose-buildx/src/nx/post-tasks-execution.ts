/**
 * The plugin's `postTasksExecution` hook: once a run of docker-build / docker-push /
 * docker-verify tasks ends (also when Nx served them from its cache), print one table of
 * service × platform and, in GitHub Actions, append it to `$GITHUB_STEP_SUMMARY` as
 * docker/build-push-action does. Nx hides a successful task's own output in its default
 * output styles, so a table printed by each task would not be seen.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PostTasksExecutionContext } from '@nx/devkit';
import { imagetoolsInspectArgv } from '../buildx/argv';
import { manifestLayersSize } from '../buildx/manifest';
import { QUICK_TIMEOUT_MS, runCommand, type RunFn } from '../run/exec';
import { createRegistryClient, isRegistryApiEnabled, type RegistryClient } from '../run/registry-http';
import { USE_CLI, viaRegistryApi } from './executors/shared/registry';
import type { ImageMetadata } from './executors/shared/build-record';
import { repositoryOf } from '../buildx/image-ref';
import { normalizePluginOptions, type ComposeBuildxPluginOptions } from './plugin-options';
import {
  formatSummaryMarkdown,
  formatSummaryTable,
  imageOutcome,
  mergeRows,
  summaryTotals,
  taskKind,
  verifyOutcome,
  type ImageTaskRows,
  type SummaryRow,
  type VerifyOutcome,
} from './run-summary';

export interface SummaryDeps {
  run: RunFn;
  readText: (path: string) => string | undefined;
  print: (text: string) => void;
  appendStepSummary: (path: string, text: string) => void;
  env: Record<string, string | undefined>;
  /** The registry API in-process for the size lookups (the docker CLI when absent or when it cannot answer). */
  registry?: RegistryClient;
}

const defaultSummaryDeps = (): SummaryDeps => ({
  run: runCommand,
  ...(isRegistryApiEnabled(process.env) ? { registry: createRegistryClient({ env: process.env, timeoutMs: QUICK_TIMEOUT_MS }) } : {}),
  readText: (path) => (existsSync(path) ? readFileSync(path, 'utf8') : undefined),
  print: (text) => process.stdout.write(text),
  appendStepSummary: (path, text) => appendFileSync(path, text),
  env: process.env,
});

/** Size lookups in the registry that run at once. */
const SIZE_LOOKUPS = 4;

type TaskResultLike = PostTasksExecutionContext['taskResults'][string];

function readMetadata(result: TaskResultLike, root: string, deps: SummaryDeps): ImageMetadata | undefined {
  const file = result.task.outputs.find((o) => o.endsWith('.json'));
  if (!file) return undefined;
  const text = deps.readText(join(root, file.replace(/^\{workspaceRoot\}\//, '')));
  if (!text) return undefined;
  try {
    return JSON.parse(text) as ImageMetadata;
  } catch {
    return undefined;
  }
}

/** Rows of one build/push task: one per platform its metadata names (one row when it has none). */
function imageTaskRows(
  result: TaskResultLike,
  kind: 'build' | 'push',
  perPlatform: boolean,
  root: string,
  deps: SummaryDeps,
): ImageTaskRows {
  const task = result.task;
  const meta = readMetadata(result, root, deps);
  const outcome = imageOutcome(result.status, kind, (meta as { reused?: boolean } | undefined)?.reused === true);
  const seconds = task.startTime && task.endTime && outcome !== 'cached' ? (task.endTime - task.startTime) / 1000 : undefined;
  const service = task.target.project;
  const platforms = Object.entries(meta?.platforms ?? {});
  const rows: SummaryRow[] = platforms.length
    ? platforms.map(([platform, p]) => ({
        service,
        platform,
        ...(p.digest ? { digest: p.digest } : {}),
        ...(typeof p.bytes === 'number' ? { bytes: p.bytes } : {}),
        outcome,
        ...(seconds !== undefined ? { seconds } : {}),
      }))
    : [
        {
          service,
          platform: '',
          ...(meta?.manifestDigest ? { digest: meta.manifestDigest } : {}),
          outcome,
          ...(seconds !== undefined ? { seconds } : {}),
        },
      ];
  return { kind, perPlatform, rows: pushedRef(meta) ? rows.map((r) => ({ ...r, ref: pushedRef(meta) })) : rows };
}

/** The repository a pushed image's platform manifests can be read from. */
function pushedRef(meta: ImageMetadata | undefined): string | undefined {
  return meta?.pushed && meta.tags[0] ? repositoryOf(meta.tags[0]) : undefined;
}

/** Compressed sizes of pushed platform images, from their manifests in the registry. */
async function addSizes(rows: Array<SummaryRow & { ref?: string }>, root: string, deps: SummaryDeps): Promise<void> {
  const todo = rows.filter((r) => r.ref && r.digest && r.bytes === undefined);
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const row = todo[next++]!;
      const ref = `${row.ref}@${row.digest}`;
      // A size is a nicety: a lookup the registry API cannot answer goes to the CLI silently.
      const fast = await viaRegistryApi({ registry: deps.registry, log: () => undefined }, async (client) => {
        const m = await client.getManifest(ref);
        return m ? m.bytes.toString('utf8') : USE_CLI;
      });
      const r = fast !== USE_CLI ? { exitCode: 0, stdout: fast } : await deps.run(imagetoolsInspectArgv(ref), { cwd: root });
      if (r.exitCode === 0) {
        const bytes = manifestLayersSize(r.stdout);
        if (bytes !== undefined) row.bytes = bytes;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(SIZE_LOOKUPS, todo.length) }, worker));
}

/** The summary rows of a run, or none when it ran no task of ours. */
export async function runSummaryRows(
  options: ComposeBuildxPluginOptions | undefined,
  context: Pick<PostTasksExecutionContext, 'taskResults' | 'workspaceRoot'>,
  deps: SummaryDeps,
): Promise<SummaryRow[]> {
  const names = normalizePluginOptions(options).targetNames;
  const imageTasks: ImageTaskRows[] = [];
  const verified = new Map<string, VerifyOutcome>();
  for (const result of Object.values(context.taskResults)) {
    const kind = taskKind(result.task.target.target, names);
    if (!kind) continue;
    if (kind.kind === 'verify') verified.set(result.task.target.project, verifyOutcome(result.status));
    else imageTasks.push(imageTaskRows(result, kind.kind, kind.perPlatform, context.workspaceRoot, deps));
  }
  const rows = mergeRows(imageTasks, verified) as Array<SummaryRow & { ref?: string }>;
  await addSizes(rows, context.workspaceRoot, deps);
  return rows.map(({ ref: _ref, ...row }) => row);
}

export async function postTasksExecution(
  options: ComposeBuildxPluginOptions | undefined,
  context: PostTasksExecutionContext,
  deps: SummaryDeps = defaultSummaryDeps(),
): Promise<void> {
  try {
    const rows = await runSummaryRows(options, context, deps);
    if (!rows.length) return;
    deps.print(`\n nx-compose-buildx  ${summaryTotals(rows)}\n\n${formatSummaryTable(rows)}\n\n`);
    const stepSummary = deps.env.GITHUB_STEP_SUMMARY;
    if (stepSummary) deps.appendStepSummary(stepSummary, `${formatSummaryMarkdown(rows)}\n${summaryTotals(rows)}\n\n`);
  } catch (e) {
    // A summary must never turn a finished run into a failed one.
    deps.print(`nx-compose-buildx: no run summary (${(e as Error).message})\n`);
  }
}
