import type { ProjectGraph } from '@nx/devkit';
import { normalizePlatform, normalizePlatforms, parsePlatform, platformSlug } from '../../../buildx/platform';

/**
 * `--runners=native`: one CI leg per platform, each on a runner whose CPU runs that platform, with
 * QEMU only where no such runner exists. Pure: platforms in, legs out.
 */

/** The two runner kinds hosted CI offers: x86-64 and 64-bit ARM machines. */
export type RunnerArch = 'amd64' | 'arm64';

export interface NativeLeg {
  /** Normalised platform, e.g. `linux/arm/v7`. */
  platform: string;
  /** `linux-arm-v7`: the leg's artifact name suffix (the digest files are named the same way). */
  slug: string;
  runner: RunnerArch;
  /** Docker arch QEMU must emulate on this leg (setup-qemu-action / binfmt `--install`); none when native. */
  emulate?: string;
}

/** Hosted runner names per provider; `--amd64Runner` / `--arm64Runner` replace them (self-hosted labels). */
export const DEFAULT_RUNNERS: Record<'github' | 'gitlab', Record<RunnerArch, string>> = {
  github: { amd64: 'ubuntu-24.04', arm64: 'ubuntu-24.04-arm' },
  gitlab: { amd64: 'saas-linux-small-amd64', arm64: 'saas-linux-small-arm64' },
};

/** Which runner builds a platform, and whether it needs QEMU there. */
export function nativeLeg(platform: string): NativeLeg {
  const { os, architecture } = parsePlatform(platform);
  const base = { platform: normalizePlatform(platform), slug: platformSlug(platform) };
  if (architecture === 'arm64') return { ...base, runner: 'arm64' };
  // 32-bit ARM runs on the ARM runner; QEMU is registered too, because not every 64-bit ARM
  // server CPU executes 32-bit code (AArch32), and on one that does the emulator only costs time.
  if (architecture === 'arm') return { ...base, runner: 'arm64', emulate: 'arm' };
  // x86-64 runs 32-bit x86 itself; an image for another OS has no RUN step to emulate.
  if (architecture === 'amd64' || architecture === '386' || os !== 'linux') return { ...base, runner: 'amd64' };
  return { ...base, runner: 'amd64', emulate: architecture }; // ppc64le, s390x, riscv64, ...: no hosted runner
}

/** One leg per platform, in a stable order (amd64 first, then as sorted). */
export function nativeLegs(platforms: readonly string[]): NativeLeg[] {
  const normalized = normalizePlatforms(platforms);
  if (normalized.length === 0) throw new Error('No platform to build: pass --platforms, e.g. linux/amd64,linux/arm64.');
  const rank = (p: string) => (p === 'linux/amd64' ? '' : p);
  return [...normalized].sort((a, b) => rank(a).localeCompare(rank(b))).map(nativeLeg);
}

/**
 * The platforms the workspace's compose services build for, read from the project graph: the
 * plugin puts each service's platforms on its docker-verify target (every service has one). A
 * service that declares none builds for whatever machine runs it, which no leg is: it is listed
 * in `undeclared` (native runners build nothing for it, and its merge fails, naming the reason).
 */
export function platformsInUse(graph: Pick<ProjectGraph, 'nodes'>): { platforms: string[]; undeclared: string[] } {
  const found = new Set<string>();
  const undeclared: string[] = [];
  for (const [name, node] of Object.entries(graph.nodes)) {
    for (const target of Object.values(node.data.targets ?? {})) {
      if (target.executor !== 'nx-compose-buildx:docker-verify') continue;
      const platforms = (target.options as { platforms?: unknown } | undefined)?.platforms;
      const list = Array.isArray(platforms) ? platforms.filter((p): p is string => typeof p === 'string') : [];
      if (list.length === 0) undeclared.push(name);
      for (const p of list) found.add(p);
    }
  }
  return { platforms: [...found], undeclared: undeclared.sort() };
}
