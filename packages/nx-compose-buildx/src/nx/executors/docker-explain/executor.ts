import type { ExecutorContext } from '@nx/devkit';
import { readFileSync } from 'node:fs';
import { registryLocation } from '../../../buildx/image-ref';
import { commandTimeouts } from '../../../run/exec';
import { commitSource, diskSource, loadSide, type ComposeRunOption, type LoadedSide, type SideSource } from './load-side';
import { describeReason, explainReasons, type ExplainSide, type Reason, type RegistryAnswer } from './reasons';
import { withBaseTriggers, type ReadSite } from '../../../graph';
import { computeContentKey } from '../shared/content-key';
import { defaultDeps, withTimeouts, type ExecutorDeps } from '../shared/deps';
import { normalizeBuildOptions, type BuildExecutorOptions } from '../shared/options';
import { BASES_LABEL, isReuseEnabled, keyTag, lookupKeyImage, movedBases, servedImageLabel } from '../shared/registry-reuse';
import { resolveCommit } from '../../../run/git-tree';

export interface DockerExplainExecutorSchema {
  /** Compose service name. */
  service: string;
  /** The compose run the service comes from (workspace-relative), loaded at both commits. */
  compose: ComposeRunOption;
  /** This project's push targets whose content keys are looked up in the registry (one per platform for a service built per platform). */
  pushTargets?: string[];
  /** Base commit; default NX_BASE, then nx.json's defaultBase, then main. The merge-base with the head is compared, as `nx affected` does. */
  base?: string;
  /** Head commit; default NX_HEAD, else the working tree (committed or not), as `nx affected` without --head. */
  head?: string;
  /** Print one JSON object per service instead of text. */
  json?: boolean;
}

export interface ServiceExplanation {
  service: string;
  project: string;
  /** The base as given, and the commit compared (its merge-base with the head). */
  base: string;
  baseCommit: string;
  /** The head commit, or "working tree". */
  head: string;
  /** The service's image (its first tag). */
  image: string;
  platforms: string[];
  reasons: Reason[];
  /** This image's `ONBUILD` trigger that reads the contexts of the builds on it, as the graph counts it. */
  onbuild?: ReadSite & { file: string };
}

interface Range {
  base: string;
  baseCommit: string;
  head?: string;
  headCommit?: string;
  changedFiles: string[];
}

const lines = (text: string, sep = '\0') => text.split(sep).filter(Boolean);

/** `--base` / `--head` of an `nx affected` command line, or undefined when it is not one. */
export function affectedRange(argv: readonly string[]): { base?: string; head?: string } | undefined {
  if (!argv.some((a) => a === 'affected' || a.startsWith('affected:'))) return undefined;
  const out: { base?: string; head?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--(base|head)(?:=(.*))?$/.exec(argv[i]!);
    if (!m) continue;
    const value = m[2] ?? argv[i + 1];
    if (value !== undefined && value !== '' && !(m[2] === undefined && value.startsWith('-'))) out[m[1] as 'base' | 'head'] = value;
  }
  return out;
}

/**
 * Nx does not pass `nx affected --base/--head` to executors (checked on nx 24.0.6: no option, no
 * variable). The nx process that started this task is the last of NX_INVOCATION_ANCESTOR_PIDS;
 * where the OS shows its command line (Linux /proc), its --base/--head are read from there.
 */
function invokingAffectedRange(env: Record<string, string | undefined>): { base?: string; head?: string } | undefined {
  const pid = (env.NX_INVOCATION_ANCESTOR_PIDS ?? '')
    .split(',')
    .filter((p) => /^\d+$/.test(p))
    .pop();
  if (!pid) return undefined;
  try {
    return affectedRange(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'));
  } catch {
    return undefined;
  }
}

/**
 * Base and head as `nx affected` takes them: the executor option, then the `--base`/`--head` of the
 * `nx affected` command running the task, then NX_BASE / NX_HEAD (nrwl/nx-set-shas sets them), then
 * nx.json's defaultBase (else main) and the working tree.
 */
async function resolveRange(options: DockerExplainExecutorSchema, context: ExecutorContext, deps: ExecutorDeps): Promise<Range | string> {
  const root = context.root;
  const nxJson = context.nxJsonConfiguration as { defaultBase?: string; affected?: { defaultBase?: string } } | undefined;
  const invoking = invokingAffectedRange(deps.env);
  const base =
    options.base ?? invoking?.base ?? (deps.env.NX_BASE || undefined) ?? nxJson?.affected?.defaultBase ?? nxJson?.defaultBase ?? 'main';
  const head = options.head ?? invoking?.head ?? (deps.env.NX_HEAD || undefined);
  const baseSha = await resolveCommit(base, root, deps.run);
  if (!baseSha) return `base ${JSON.stringify(base)} is not a commit of this repository (set --base, NX_BASE or nx.json defaultBase)`;
  const headCommit = head === undefined ? undefined : await resolveCommit(head, root, deps.run);
  if (head !== undefined && !headCommit) return `head ${JSON.stringify(head)} is not a commit of this repository`;
  const mb = await deps.run(['git', 'merge-base', baseSha, headCommit ?? 'HEAD'], { cwd: root });
  const baseCommit = mb.exitCode === 0 && mb.stdout.trim() ? mb.stdout.trim() : baseSha;
  const diff = await deps.run(
    ['git', 'diff', '--name-only', '--no-renames', '--relative', '-z', baseCommit, ...(headCommit ? [headCommit] : [])],
    {
      cwd: root,
    },
  );
  if (diff.exitCode !== 0) return `git diff failed: ${(diff.stderr || diff.stdout).trim().split('\n')[0]}`;
  const changed = new Set(lines(diff.stdout));
  if (!headCommit) {
    const untracked = await deps.run(['git', 'ls-files', '--others', '--exclude-standard', '-z'], { cwd: root });
    for (const f of lines(untracked.stdout)) changed.add(f);
  }
  return { base, baseCommit, ...(head ? { head } : {}), ...(headCommit ? { headCommit } : {}), changedFiles: [...changed].sort() };
}

/** What the registry says about the push's content key; explaining only reads, it never writes a key. */
async function registryAnswer(raw: BuildExecutorOptions, root: string, deps: ExecutorDeps, perPlatform: boolean): Promise<RegistryAnswer> {
  const o = normalizeBuildOptions(raw, 'push');
  const platforms = perPlatform ? { platforms: o.build.platforms } : {};
  if (!isReuseEnabled(raw.reuse, deps.env))
    return { ...platforms, outcome: 'off', detail: 'registry reuse is off, so docker-push builds whenever Nx has no cached result' };
  const first = o.build.tags[0];
  if (!first) return { ...platforms, outcome: 'none', detail: 'no tag, so no registry to look in' };
  const computed = await computeContentKey(o.build, o.serviceImages, root, deps);
  if ('none' in computed) return { ...platforms, outcome: 'none', detail: `no content key (${computed.none}), so docker-push builds` };
  const ref = keyTag(first, computed.key);
  const registry = registryLocation(ref).host;
  const builder = typeof raw.builder === 'string' ? raw.builder : raw.builder?.name;
  const found = await lookupKeyImage(ref, computed.key, o.build.platforms, root, deps, builder);
  if ('image' in found)
    return {
      ...platforms,
      outcome: 'hit',
      ref,
      registry,
      detail: `${registry} holds an image with this key (${ref}, ${found.image.digest}): docker-push tags it and builds nothing`,
    };
  const detail = found.miss === 'no image with this key' ? `no image with this key in ${registry} (${ref})` : `${ref}: ${found.miss}`;
  // The image under the service's tag records the base digests it was built on: a base whose tag moved since is a reason.
  const moved = movedBases(await servedImageLabel(first, BASES_LABEL, root, deps, builder), computed.bases);
  return { ...platforms, outcome: 'miss', ref, registry, detail, ...(moved.length ? { movedBases: moved, builtImage: first } : {}) };
}

class Explainer {
  private readonly sources = new Map<string, Promise<SideSource>>();
  private readonly done = new Map<string, Promise<ServiceExplanation>>();

  constructor(
    private readonly context: ExecutorContext,
    private readonly range: Range,
    private readonly deps: ExecutorDeps,
  ) {}

  private source(commit: string | undefined): Promise<SideSource> {
    const key = commit ?? '';
    let s = this.sources.get(key);
    if (!s) this.sources.set(key, (s = commit ? commitSource(this.context.root, commit, this.deps.run) : Promise.resolve(diskSource())));
    return s;
  }

  /** One project's explanation; the dependencies' are computed once each, without registry lookups. */
  explain(project: string, options: DockerExplainExecutorSchema, withRegistry: boolean, path: string[] = []): Promise<ServiceExplanation> {
    let p = this.done.get(project);
    if (!p) this.done.set(project, (p = this.compute(project, options, withRegistry, [...path, project])));
    return p;
  }

  private async compute(
    project: string,
    options: DockerExplainExecutorSchema,
    withRegistry: boolean,
    path: string[],
  ): Promise<ServiceExplanation> {
    const { root } = this.context;
    const env = this.deps.env;
    const load = async (commit: string | undefined, processEnv = env): Promise<LoadedSide> =>
      loadSide(await this.source(commit), root, options.compose, options.service, processEnv);
    const [head, base] = await Promise.all([load(this.range.headCommit), load(this.range.baseCommit)]);
    if (!('side' in head))
      throw new Error('error' in head ? head.error : `service "${options.service}" has no build section in its compose files`);
    const set = head.side.spec.variables.filter((v) => env[v] !== undefined);
    let committed: ExplainSide | undefined;
    if (set.length) {
      const without = Object.fromEntries(Object.entries(env).filter(([k]) => !set.includes(k)));
      const c = await load(this.range.headCommit, without);
      if ('side' in c) committed = c.side;
    }

    const dependencies: Array<{ service: string; image: string; reasons: Reason[] }> = [];
    const triggers = new Map<string, ReadSite & { file: string }>();
    const targetName = this.context.targetName!;
    for (const dep of this.context.projectGraph?.dependencies?.[project] ?? []) {
      const depOptions = this.context.projectsConfigurations?.projects?.[dep.target]?.targets?.[targetName]?.options as
        DockerExplainExecutorSchema | undefined;
      if (!depOptions?.compose || path.includes(dep.target)) continue;
      const e = await this.explain(dep.target, depOptions, false, path).catch(() => undefined);
      if (e) dependencies.push({ service: e.service, image: e.image, reasons: e.reasons });
      if (e?.onbuild) triggers.set(dep.target, e.onbuild);
    }
    // As the graph does: a base image's trigger reads this build's contexts whole.
    const headSide: ExplainSide = {
      ...head.side,
      reads: withBaseTriggers(head.side.reads, Object.keys(head.side.spec.additionalContexts), [...triggers.keys()], (d) =>
        triggers.get(d),
      ),
    };

    const registry: RegistryAnswer[] = [];
    if (withRegistry) {
      const targets = this.context.projectsConfigurations?.projects?.[project]?.targets ?? {};
      const pushTargets = options.pushTargets ?? [];
      for (const name of pushTargets) {
        const raw = targets[name]?.options as BuildExecutorOptions | undefined;
        if (raw?.context) registry.push(await registryAnswer(raw, root, this.deps, pushTargets.length > 1));
      }
    }

    const reasons = explainReasons({
      head: headSide,
      ...('side' in base ? { base: base.side } : 'error' in base ? { baseError: base.error } : {}),
      changedFiles: this.range.changedFiles,
      ...(committed ? { committed, environmentSet: set } : {}),
      dependencies,
      registry,
    });
    return {
      service: options.service,
      project,
      base: this.range.base,
      baseCommit: this.range.baseCommit,
      head: this.range.headCommit ?? 'working tree',
      image: head.side.spec.tags[0] ?? options.service,
      platforms: head.side.spec.platforms,
      reasons,
      ...(head.side.reads.onbuild
        ? { onbuild: { ...head.side.reads.onbuild, file: head.side.spec.dockerfile ?? `${project} (inline Dockerfile)` } }
        : {}),
    };
  }
}

export function renderExplanation(e: ServiceExplanation): string[] {
  const tag = `[${e.service}]`;
  const head = e.head === 'working tree' ? 'the working tree' : e.head.slice(0, 12);
  const out = [
    `${tag} docker-explain: ${e.baseCommit.slice(0, 12)} (${e.base}) → ${head}, platforms ${e.platforms.join(', ') || "the builder's"}`,
  ];
  const own = e.reasons.filter((r) => r.kind !== 'registry');
  if (!own.length) out.push(`${tag}   nothing the image is built from changed since ${e.baseCommit.slice(0, 12)}`);
  for (const r of e.reasons) out.push(`${tag}   ${describeReason(r)}`);
  return out;
}

/**
 * docker-explain: why this service's image may differ from the one built at the base commit
 * (files and the Dockerfile line that reads them, compose fields with old and new values, the
 * environment, base images, platforms), and whether the registry already holds an image with its
 * content key. Builds nothing, writes nothing, is never cached.
 */
export async function dockerExplain(
  options: DockerExplainExecutorSchema,
  context: ExecutorContext,
  given: ExecutorDeps = defaultDeps(),
): Promise<{ success: boolean; explanation?: ServiceExplanation }> {
  const tag = `[${options.service}]`;
  try {
    const deps = withTimeouts(given, commandTimeouts(given.env));
    const range = await resolveRange(options, context, deps);
    if (typeof range === 'string') {
      given.log(`${tag} docker-explain: ${range}`);
      return { success: false };
    }
    const explanation = await new Explainer(context, range, deps).explain(context.projectName ?? options.service, options, true);
    if (options.json) given.log(JSON.stringify(explanation));
    else for (const line of renderExplanation(explanation)) given.log(line);
    return { success: true, explanation };
  } catch (e) {
    given.log(`${tag} docker-explain: ${(e as Error).message}`);
    return { success: false };
  }
}

export default async function dockerExplainExecutor(
  options: DockerExplainExecutorSchema,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  const { success } = await dockerExplain(options, context);
  return { success };
}
