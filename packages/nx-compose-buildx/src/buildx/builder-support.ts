/**
 * Which platforms can this machine build? Two pure parsers (buildx inspect text, binfmt_misc entries)
 * and the check that runs before a build, with an error that names each missing platform and the fix.
 */
import { binfmtName, hostPlatform, isValidPlatform, normalizePlatform, parsePlatform } from './platform';

export interface BuilderNodeInfo {
  name: string;
  endpoint?: string;
  status?: string;
  buildkit?: string;
  platforms: string[];
}

export interface BuilderInfo {
  name?: string;
  driver?: string;
  nodes: BuilderNodeInfo[];
  /** Union of every node's platforms, normalised, in first-seen order. */
  platforms: string[];
}

function splitPlatforms(text: string): string[] {
  return text
    .split(',')
    .map((p) => p.trim().replace(/\*$/, '')) // `*` marks platforms set with --platform
    .filter((p) => p !== '');
}

function addNormalized(into: string[], raw: string[]): void {
  for (const p of raw) {
    const n = isValidPlatform(p) ? normalizePlatform(p) : p;
    if (!into.includes(n)) into.push(n);
  }
}

/**
 * Parses `docker buildx inspect [--bootstrap] <builder>` text output:
 *
 *     Name:          default
 *     Driver:        docker
 *     Nodes:
 *     Name:      default
 *     Endpoint:  default
 *     Platforms: linux/amd64, linux/amd64/v2, linux/386, linux/arm64
 *
 * A `Platforms:` value may continue on indented lines.
 */
export function parseBuildxInspect(text: string): BuilderInfo {
  const info: BuilderInfo = { nodes: [], platforms: [] };
  let inNodes = false;
  let node: BuilderNodeInfo | undefined;
  let continuing = false;
  for (const line of text.split(/\r?\n/)) {
    const kv = /^([A-Za-z][A-Za-z ]*?):\s*(.*)$/.exec(line);
    if (!kv) {
      if (continuing && /^\s+\S/.test(line) && node) {
        node.platforms.push(...splitPlatforms(line));
        continue;
      }
      continuing = false;
      continue;
    }
    continuing = false;
    const key = kv[1]!.trim();
    const value = kv[2]!.trim();
    if (key === 'Nodes') {
      inNodes = true;
      continue;
    }
    if (!inNodes) {
      if (key === 'Name') info.name = value;
      else if (key === 'Driver') info.driver = value;
      continue;
    }
    if (key === 'Name') {
      node = { name: value, platforms: [] };
      info.nodes.push(node);
    } else if (node) {
      if (key === 'Endpoint') node.endpoint = value;
      else if (key === 'Status') node.status = value;
      else if (key === 'BuildKit' || key === 'BuildKit version') node.buildkit = value;
      else if (key === 'Platforms') {
        node.platforms.push(...splitPlatforms(value));
        continuing = true;
      }
    }
  }
  for (const n of info.nodes) addNormalized(info.platforms, n.platforms);
  return info;
}

export interface BinfmtEntry {
  name: string;
  enabled: boolean;
}

/**
 * binfmt_misc listing: file name → file content (as read from /proc/sys/fs/binfmt_misc). The `status`
 * file switches everything off when it says `disabled`; `register` is not an entry.
 */
export function parseBinfmtMisc(files: Record<string, string>): BinfmtEntry[] {
  if ((files.status ?? 'enabled').trim().startsWith('disabled')) return [];
  const out: BinfmtEntry[] = [];
  for (const [name, content] of Object.entries(files)) {
    if (name === 'status' || name === 'register') continue;
    out.push({ name, enabled: content.trim().split(/\r?\n/)[0]?.trim() === 'enabled' });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** qemu binfmt name → the Linux platforms its emulator runs. */
const QEMU_PLATFORMS: Record<string, string[]> = {
  x86_64: ['linux/amd64'],
  i386: ['linux/386'],
  aarch64: ['linux/arm64'],
  arm: ['linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5'],
  ppc64le: ['linux/ppc64le'],
  ppc64: ['linux/ppc64'],
  s390x: ['linux/s390x'],
  riscv64: ['linux/riscv64'],
  mips64el: ['linux/mips64le'],
  mips64: ['linux/mips64'],
  mipsel: ['linux/mipsle'],
  mips: ['linux/mips'],
  loongarch64: ['linux/loong64'],
};

/** Platforms that the enabled qemu entries (`qemu-aarch64`, `buildkit-qemu-arm`, …) can run. */
export function binfmtPlatforms(entries: BinfmtEntry[]): string[] {
  const out: string[] = [];
  for (const e of entries) {
    if (!e.enabled) continue;
    const m = /(?:^|-)qemu-([a-z0-9_]+)$/.exec(e.name);
    const platforms = m ? QEMU_PLATFORMS[m[1]!] : undefined;
    if (platforms) addNormalized(out, platforms);
  }
  return out;
}

/** Platforms the builder reports, plus what qemu can run (BuildKit uses binfmt at exec time). */
export function supportedPlatforms(builder: BuilderInfo | undefined, binfmt: BinfmtEntry[]): string[] {
  const out: string[] = [];
  addNormalized(out, builder?.platforms ?? []);
  addNormalized(out, binfmtPlatforms(binfmt));
  return out;
}

function nativePlatforms(hostArch: string | undefined): string[] {
  if (!hostArch) return [];
  try {
    const host = hostPlatform(hostArch);
    return host === 'linux/amd64' ? [host, 'linux/386'] : [host];
  } catch {
    return [];
  }
}

/** The requested platforms (normalised) that neither the builder, qemu nor the host itself can build. */
export function missingPlatforms(requested: readonly string[], supported: readonly string[], hostArch?: string): string[] {
  const have = new Set<string>();
  for (const p of [...supported, ...nativePlatforms(hostArch)]) have.add(isValidPlatform(p) ? normalizePlatform(p) : p);
  const missing: string[] = [];
  for (const p of requested) {
    const n = normalizePlatform(p);
    if (have.has(n) || missing.includes(n)) continue;
    missing.push(n);
  }
  return missing;
}

/** `tonistiigi/binfmt --install` takes Docker arch names. */
function binfmtInstallName(platform: string): string {
  return parsePlatform(platform).architecture;
}

export function missingPlatformsMessage(service: string, missing: readonly string[], builder?: string): string {
  const lines = [
    `Service "${service}" needs platform${missing.length > 1 ? 's' : ''} that builder ${builder ? `"${builder}"` : '(current)'} cannot build on this machine:`,
  ];
  for (const p of missing) lines.push(`  - ${p}: no emulator registered (binfmt_misc entry qemu-${binfmtName(p)})`);
  const archs = [...new Set(missing.map(binfmtInstallName))].join(',');
  lines.push(
    'Fix: register QEMU emulators, then run the build again:',
    `  docker run --privileged --rm tonistiigi/binfmt --install ${archs}`,
    '  or on Debian/Ubuntu: apt-get install qemu-user-static',
    'If the emulators are registered but the builder started before them, restart the builder (for the docker driver: restart dockerd).',
  );
  return lines.join('\n');
}
