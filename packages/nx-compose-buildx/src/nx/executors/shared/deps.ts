/** What executors need from the outside world; tests inject fakes. */
import type { GitFacts } from '../../../buildx/tags';
import { QUICK_TIMEOUT_MS, runCommand, type CommandTimeouts, type RunFn } from '../../../run/exec';
import { gitFacts } from '../../../run/git';
import { hostArch, readBinfmtMisc } from '../../../run/host';
import { loadOciLayout, localImageDigests, type LoadLayoutFn, type LocalDigestsFn } from '../../../run/image-save';
import type { ExternalDigests } from './registry';
import type { FileHistories } from './source-epoch';
import { createRegistryClient, isRegistryApiEnabled, type RegistryClient } from '../../../run/registry-http';

export interface ExecutorDeps {
  run: RunFn;
  gitFacts: (cwd: string) => Promise<GitFacts | undefined>;
  readBinfmt: () => Record<string, string>;
  hostArch: () => string;
  localImageDigests: LocalDigestsFn;
  loadOciLayout: LoadLayoutFn;
  now: () => Date;
  log: (line: string) => void;
  isTTY: boolean;
  env: Record<string, string | undefined>;
  sleep: (ms: number) => Promise<void>;
  /** A name unique to one run in this workspace (per-run temp files). */
  runId: () => string;
  /**
   * The registry API in-process (run/registry-http.ts), a fast path for the registry questions
   * (registry.ts); absent, or when it cannot answer as the docker CLI would, the CLI is asked.
   */
  registry?: RegistryClient;
  /**
   * Holds one of the batch's build slots while `work` runs a buildx build (run-batch.ts); absent
   * outside a batch, where Nx's own task parallelism bounds the builds.
   */
  buildSlot?: <T>(work: () => Promise<T>) => Promise<T>;
  /** JSON file histories walked by source-epoch.ts in this process, for the next task that asks (a batch walks each once). */
  fileHistories?: FileHistories;
  /** The registry digests of the images a batch builds on but never pushes, asked once for the batch (content-key.ts). */
  externalDigests?: ExternalDigests;
}

let runs = 0;

export function defaultDeps(): ExecutorDeps {
  return {
    run: runCommand,
    gitFacts: (cwd) => gitFacts(cwd),
    readBinfmt: () => readBinfmtMisc(),
    hostArch: () => hostArch(),
    localImageDigests,
    loadOciLayout,
    now: () => new Date(),
    log: (line) => process.stdout.write(`${line}\n`),
    isTTY: Boolean(process.stdout.isTTY),
    env: process.env,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    runId: () => `${process.pid}-${++runs}`,
    fileHistories: new Map(),
    ...(isRegistryApiEnabled(process.env) ? { registry: createRegistryClient({ env: process.env, timeoutMs: QUICK_TIMEOUT_MS }) } : {}),
  };
}

/** The same deps, with every command they run bounded by `timeouts.quick` unless it asks for more. */
export function withTimeouts(deps: ExecutorDeps, timeouts: CommandTimeouts): ExecutorDeps {
  return {
    ...deps,
    run: (argv, options) => deps.run(argv, { ...options, timeoutMs: options.timeoutMs ?? timeouts.quick }),
    ...(deps.registry ? { registry: deps.registry.withTimeout(timeouts.quick) } : {}),
  };
}

/** `work` in one of the batch's build slots, or at once outside a batch. */
export function inBuildSlot<T>(deps: ExecutorDeps, work: () => Promise<T>): Promise<T> {
  return deps.buildSlot ? deps.buildSlot(work) : work();
}
