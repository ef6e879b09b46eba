/** Test doubles for executors: a scripted run layer and in-memory host facts. */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import type { RunCommandOptions, RunResult } from '../../../../run/exec';
import { displayCommand } from '../../../../run/exec';
import type { ExecutorDeps } from '../deps';

export interface Call {
  argv: string[];
  options: RunCommandOptions;
}

export type Handler = (argv: string[], options: RunCommandOptions) => Partial<RunResult> | undefined;

export const SHA = '0123456789abcdef0123456789abcdef01234567';
export const NOW = new Date('2024-05-01T12:00:00Z');

export const DOCKER_INSPECT = `Name:          default
Driver:        docker

Nodes:
Name:      default
Endpoint:  default
Status:    running
BuildKit:  v0.13.2
Platforms: linux/amd64, linux/amd64/v2, linux/386, linux/arm64, linux/arm/v7, linux/arm/v6, linux/ppc64le, linux/s390x, linux/riscv64
`;

/** The digest a fake content-stable build writes into its OCI layout. */
export const LAYOUT_DIGEST = `sha256:${'0a'.repeat(32)}`;

/** What buildx does for `--output type=oci,dest=<dir>,tar=false,...`: a layout naming one image. */
function writeOciLayout(argv: string[], cwd: string): void {
  const i = argv.indexOf('--output');
  const dest = i > 0 && argv[i + 1]!.startsWith('type=oci,') ? /(?:^|,)dest=([^,]+)/.exec(argv[i + 1]!)?.[1] : undefined;
  if (!dest || existsSync(join(cwd, dest, 'index.json'))) return; // a test's handler wrote its own
  mkdirSync(join(cwd, dest), { recursive: true });
  writeFileSync(join(cwd, dest, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ digest: LAYOUT_DIGEST }] }));
}

export function fakeDeps(handler: Handler, overrides: Partial<ExecutorDeps> = {}) {
  const calls: Call[] = [];
  const logs: string[] = [];
  const deps: ExecutorDeps = {
    run: async (argv, options) => {
      calls.push({ argv: [...argv], options });
      const r = handler([...argv], options) ?? {};
      if ((r.exitCode ?? 0) === 0) writeOciLayout(argv, options.cwd);
      return { exitCode: 0, stdout: '', stderr: '', command: displayCommand(argv), ...r };
    },
    gitFacts: async () => ({ branch: 'main', sha: SHA, defaultBranch: 'main', remoteUrl: 'https://tok@github.com/o/r' }),
    readBinfmt: () => ({}),
    hostArch: () => 'amd64',
    localImageDigests: async () => ({ platforms: [] }),
    loadOciLayout: async () => undefined,
    now: () => NOW,
    log: (line) => logs.push(line),
    isTTY: false,
    env: {},
    sleep: async () => {},
    runId: () => 'run1',
    ...overrides,
  };
  return { deps, calls, logs, commands: () => calls.map((c) => c.argv.join(' ')) };
}

const tmpRoots: string[] = [];
// Tests make a workspace folder each; remove them all when the test file ends.
afterAll(() => {
  for (const root of tmpRoots.splice(0)) rmSync(root, { recursive: true, force: true });
});

export function tmpContext(): ExecutorContext {
  const root = mkdtempSync(join(tmpdir(), 'nxcb-exec-'));
  tmpRoots.push(root);
  return {
    root,
    cwd: root,
    isVerbose: false,
    projectName: 'api',
    projectsConfigurations: { version: 2, projects: {} },
    nxJsonConfiguration: {},
    projectGraph: { nodes: {}, dependencies: {} },
  } as ExecutorContext;
}
