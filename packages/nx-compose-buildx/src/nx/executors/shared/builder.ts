/** Make sure the configured buildx builder exists (create once, bootstrap, reuse) and learn what it supports. */
import { builderAppendArgv, builderCreateArgv, builderInspectArgv, type BuilderSpec } from '../../../buildx/argv';
import { parseBuildxInspect, type BuilderInfo } from '../../../buildx/builder-support';
import { displayCommand, failureText } from '../../../run/exec';
import type { ExecutorDeps } from './deps';

export interface EnsuredBuilder {
  /** Name for `--builder`; undefined = buildx's current builder. */
  name?: string;
  info?: BuilderInfo;
}

/** Builders this process already created or bootstrapped, with what inspect said. A promise, so
 * the concurrent builds of a batch share one inspect (and one create). */
const ensured = new Map<string, Promise<BuilderInfo>>();

export function resetBuilderCache(): void {
  ensured.clear();
}

function fail(what: string, r: { command: string; stderr: string; stdout: string; exitCode: number; failure?: string }): Error {
  return new Error(`${what} failed (exit ${r.exitCode}): ${r.command}\n${failureText(r)}`);
}

/** The builder as `--builder` names it, without asking buildx anything (no `info`). */
export function builderNamed(builder: string | BuilderSpec | undefined): EnsuredBuilder {
  const name = typeof builder === 'string' ? builder : builder?.name;
  return name ? { name } : {};
}

export async function ensureBuilder(
  builder: string | BuilderSpec | undefined,
  cwd: string,
  deps: ExecutorDeps,
  dryRun: boolean,
): Promise<EnsuredBuilder> {
  const spec: BuilderSpec | undefined = typeof builder === 'string' ? { name: builder } : builder;
  const name = spec?.name;
  const key = name ?? '\0current';

  if (dryRun && !ensured.has(key)) {
    deps.log(`[dry-run] ${displayCommand(builderInspectArgv(name))}`);
    if (spec && typeof builder === 'object') {
      deps.log(`[dry-run] # only if builder "${spec.name}" does not exist yet:`);
      deps.log(`[dry-run] ${displayCommand(builderCreateArgv(spec))}`);
      for (const node of spec.nodes ?? []) deps.log(`[dry-run] ${displayCommand(builderAppendArgv(spec.name, node))}`);
    }
    return builderNamed(builder);
  }

  let pending = ensured.get(key);
  if (!pending) {
    pending = inspectOrCreate(builder, spec, cwd, deps);
    ensured.set(key, pending);
    pending.catch(() => ensured.delete(key)); // a failure is not remembered: the next task tries again
  }
  const info = await pending;
  return { ...(name ? { name } : {}), info };
}

async function inspectOrCreate(
  builder: string | BuilderSpec | undefined,
  spec: BuilderSpec | undefined,
  cwd: string,
  deps: ExecutorDeps,
): Promise<BuilderInfo> {
  const name = spec?.name;
  const inspect = builderInspectArgv(name);
  let r = await deps.run(inspect, { cwd });
  // docker itself missing (or not startable, or hung): nothing else can work, say exactly that.
  if (r.failure) throw new Error(`Cannot check the buildx builder: ${r.failure}`);
  if (r.exitCode !== 0 && /unknown flag: --bootstrap|'buildx' is not a docker command|unknown command "buildx"/.test(r.stderr + r.stdout)) {
    throw new Error(
      'The docker buildx plugin is not installed: put docker-buildx (as `docker-buildx`) in ~/.docker/cli-plugins/ ' +
        'or /usr/libexec/docker/cli-plugins/, then check with `docker buildx version`.',
    );
  }
  if (r.exitCode !== 0) {
    if (!spec || typeof builder === 'string') {
      throw new Error(
        `${name ? `Builder "${name}"` : 'The current buildx builder'} is not usable: ${failureText(r)}\n` +
          'Give the plugin a builder spec ({ "name", "driver", ... }) to have it created, or create it with `docker buildx create`.',
      );
    }
    deps.log(`Creating buildx builder "${spec.name}" (driver ${spec.driver ?? 'docker-container'})`);
    const created = await deps.run(builderCreateArgv(spec), { cwd });
    // Another task may have created it meanwhile: only fail if it still does not inspect.
    if (created.exitCode !== 0) {
      const again = await deps.run(builderInspectArgv(spec.name, { bootstrap: false }), { cwd });
      if (again.exitCode !== 0) throw fail(`Creating builder "${spec.name}"`, created);
    } else {
      for (const node of spec.nodes ?? []) {
        const appended = await deps.run(builderAppendArgv(spec.name, node), { cwd });
        if (appended.exitCode !== 0) throw fail(`Adding node "${node.name}" to builder "${spec.name}"`, appended);
      }
    }
    r = await deps.run(inspect, { cwd });
    if (r.exitCode !== 0) throw fail(`Bootstrapping builder "${spec.name}"`, r);
  }
  return parseBuildxInspect(r.stdout);
}
