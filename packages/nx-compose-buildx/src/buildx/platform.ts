/**
 * Platform strings (`os/arch[/variant]`) as Docker and BuildKit understand them, normalised the way
 * containerd's `platforms.Normalize` does, and their mapping to what an emulated container reports
 * (`uname -m`) and to the qemu binfmt_misc entry that makes the emulation work.
 */
import { closest } from './closest';

export const KNOWN_OS = ['linux', 'windows', 'darwin', 'freebsd', 'netbsd', 'openbsd', 'illumos', 'solaris', 'aix'] as const;

/** One Docker architecture: what a platform of it may say, what its containers report, what runs it under emulation. */
interface ArchFacts {
  /** The variants it accepts (empty: no variant). */
  variants: string[];
  /** What `uname -m` prints inside its containers (under qemu or natively); arm's depends on the variant. */
  uname: string | ((variant: string | undefined) => string);
  /** Its qemu binfmt_misc entry, `/proc/sys/fs/binfmt_misc/qemu-<binfmt>`. */
  binfmt: string;
}

/** Every Docker architecture we know, with its facts: the one table for them. */
const ARCHES: Record<string, ArchFacts> = {
  amd64: { variants: ['v1', 'v2', 'v3', 'v4'], uname: 'x86_64', binfmt: 'x86_64' },
  arm64: { variants: ['v8', 'v9'], uname: 'aarch64', binfmt: 'aarch64' },
  arm: { variants: ['v5', 'v6', 'v7', 'v8'], uname: (variant) => `arm${variant ?? 'v7'}l`, binfmt: 'arm' },
  '386': { variants: [], uname: 'i686', binfmt: 'i386' },
  ppc64le: { variants: [], uname: 'ppc64le', binfmt: 'ppc64le' },
  ppc64: { variants: [], uname: 'ppc64', binfmt: 'ppc64' },
  s390x: { variants: [], uname: 's390x', binfmt: 's390x' },
  riscv64: { variants: [], uname: 'riscv64', binfmt: 'riscv64' },
  mips64le: { variants: [], uname: 'mips64', binfmt: 'mips64el' },
  mips64: { variants: [], uname: 'mips64', binfmt: 'mips64' },
  mipsle: { variants: [], uname: 'mips', binfmt: 'mipsel' },
  mips: { variants: [], uname: 'mips', binfmt: 'mips' },
  loong64: { variants: [], uname: 'loongarch64', binfmt: 'loongarch64' },
  wasm: { variants: [], uname: 'wasm', binfmt: 'wasm' },
};
export const KNOWN_ARCHES = Object.keys(ARCHES);

/** Aliases for architectures (uname -m / Debian names) → Docker arch and implied variant. */
const ARCH_ALIASES: Record<string, { arch: string; variant?: string }> = {
  x86_64: { arch: 'amd64' },
  'x86-64': { arch: 'amd64' },
  i386: { arch: '386' },
  i486: { arch: '386' },
  i586: { arch: '386' },
  i686: { arch: '386' },
  aarch64: { arch: 'arm64' },
  armhf: { arch: 'arm', variant: 'v7' },
  armel: { arch: 'arm', variant: 'v6' },
  armv5l: { arch: 'arm', variant: 'v5' },
  armv6l: { arch: 'arm', variant: 'v6' },
  armv7l: { arch: 'arm', variant: 'v7' },
  armv8l: { arch: 'arm', variant: 'v8' },
  ppc64el: { arch: 'ppc64le' },
  mips64el: { arch: 'mips64le' },
  mipsel: { arch: 'mipsle' },
  loongarch64: { arch: 'loong64' },
};

/** Platforms users pick most; used for "did you mean" suggestions. */
export const COMMON_PLATFORMS = [
  'linux/amd64',
  'linux/arm64',
  'linux/arm/v7',
  'linux/arm/v6',
  'linux/386',
  'linux/ppc64le',
  'linux/s390x',
  'linux/riscv64',
  'linux/mips64le',
  'linux/loong64',
  'windows/amd64',
  'windows/arm64',
];

export class InvalidPlatformError extends Error {
  constructor(
    readonly platform: string,
    reason: string,
    readonly suggestion?: string,
  ) {
    super(
      `Invalid platform "${platform}": ${reason}.${suggestion ? ` Did you mean "${suggestion}"?` : ''} ` +
        `Platforms are written os/arch[/variant], e.g. linux/amd64, linux/arm64, linux/arm/v7.`,
    );
    this.name = 'InvalidPlatformError';
  }
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

function parse(input: string): Platform {
  const raw = input.trim();
  const parts = raw.toLowerCase().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
    throw new InvalidPlatformError(input, 'expected os/arch or os/arch/variant', suggest(raw));
  }
  const [os, archIn, variantIn] = parts as [string, string, string | undefined];
  if (!(KNOWN_OS as readonly string[]).includes(os)) {
    throw new InvalidPlatformError(input, `unknown operating system "${os}"`, suggest(raw));
  }
  const alias = ARCH_ALIASES[archIn];
  const arch = alias ? alias.arch : archIn;
  if (!(arch in ARCHES)) {
    throw new InvalidPlatformError(input, `unknown architecture "${archIn}"`, suggest(raw));
  }
  let variant = variantIn ?? alias?.variant;
  if (variant !== undefined) {
    if (/^\d+$/.test(variant)) variant = `v${variant}`;
    if (!ARCHES[arch]!.variants.includes(variant)) {
      throw new InvalidPlatformError(input, `unknown variant "${variant}" for ${arch}`, suggest(raw));
    }
  }
  // containerd's Normalize: arm defaults to v7, arm64/v8 and amd64/v1 are the plain arch.
  if (arch === 'arm' && variant === undefined) variant = 'v7';
  if (arch === 'arm64' && variant === 'v8') variant = undefined;
  if (arch === 'amd64' && variant === 'v1') variant = undefined;
  return { os, architecture: arch, ...(variant !== undefined ? { variant } : {}) };
}

function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** Normalises a platform (`linux/arm64/v8` → `linux/arm64`, `linux/arm` → `linux/arm/v7`); throws InvalidPlatformError. */
export function normalizePlatform(platform: string): string {
  return formatPlatform(parse(platform));
}

export function parsePlatform(platform: string): Platform {
  return parse(platform);
}

export function isValidPlatform(platform: string): boolean {
  try {
    parse(platform);
    return true;
  } catch {
    return false;
  }
}

/** Normalises a list, keeps the first occurrence of duplicates; throws one error naming every invalid entry. */
export function normalizePlatforms(platforms: readonly string[]): string[] {
  const out: string[] = [];
  const errors: string[] = [];
  for (const p of platforms) {
    try {
      const n = normalizePlatform(p);
      if (!out.includes(n)) out.push(n);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (errors.length) throw new Error(errors.join('\n'));
  return out;
}

/** What `uname -m` prints inside a container of this platform (under qemu or natively). */
export function expectedUnameMachine(platform: string): string {
  const { architecture, variant } = parse(platform);
  const { uname } = ARCHES[architecture]!;
  return typeof uname === 'string' ? uname : uname(variant);
}

/**
 * Every `uname -m` answer that is a correct run of this platform. qemu-arm reports its default CPU
 * (armv7l) for an arm/v6 binary, and an arm64 kernel running 32-bit arm reports armv8l; 32-bit x86
 * reports i686 or i386 depending on the personality set for the container.
 */
export function acceptedUnameMachines(platform: string): string[] {
  const expected = expectedUnameMachine(platform);
  const { architecture, variant } = parse(platform);
  if (architecture === 'arm' && variant === 'v6') return [expected, 'armv7l', 'armv8l'];
  if (architecture === 'arm' && variant === 'v7') return [expected, 'armv8l'];
  if (architecture === '386') return [expected, 'i386', 'i586'];
  return [expected];
}

/** The qemu binfmt_misc name (`/proc/sys/fs/binfmt_misc/qemu-<name>`) that runs this platform's binaries. */
export function binfmtName(platform: string): string {
  return ARCHES[parse(platform).architecture]!.binfmt;
}

/** `uname -m` (or a Docker arch) → Docker arch with variant: `x86_64` → `amd64`, `armv7l` → `arm/v7`. */
export function dockerArchFromUname(machine: string): string {
  const m = machine.trim().toLowerCase();
  const alias = ARCH_ALIASES[m];
  if (alias) return alias.variant ? `${alias.arch}/${alias.variant}` : alias.arch;
  if (m in ARCHES) return m === 'arm' ? 'arm/v7' : m;
  if (/^arm\d*\/v\d$/.test(m)) return m;
  throw new InvalidPlatformError(machine, `unknown machine name "${machine}"`);
}

/** The Linux platform natively run by a host whose `uname -m` (or Docker arch) is given. */
export function hostPlatform(hostArch: string): string {
  return normalizePlatform(`linux/${dockerArchFromUname(hostArch)}`);
}

function suggest(raw: string): string | undefined {
  return closest(raw, COMMON_PLATFORMS);
}

/**
 * A platform as a user may write it in a key: `linux/arm64`, a Docker arch (`arm64`, `arm/v7`)
 * or a `uname -m` name (`aarch64`, `x86_64`, `armv7l`); bare arches mean Linux. Throws InvalidPlatformError.
 */
export function platformFromName(name: string): string {
  const first = name.trim().toLowerCase().split('/')[0]!;
  if ((KNOWN_OS as readonly string[]).includes(first)) return normalizePlatform(name);
  return normalizePlatform(`linux/${dockerArchFromUname(name)}`);
}

/** A platform as a name part (Nx target names, folders, lock keys): `linux/arm/v7` → `linux-arm-v7`. */
export function platformSlug(platform: string): string {
  return normalizePlatform(platform).replace(/\//g, '-');
}

/** Tag suffix of a platform's own image: arch + variant (`amd64`, `arm64`, `armv7`), prefixed by the OS unless Linux. */
export function platformTagSuffix(platform: string): string {
  const { os, architecture, variant } = parse(platform);
  const arch = `${architecture}${variant ?? ''}`;
  return os === 'linux' ? arch : `${os}-${arch}`;
}

/** The build args BuildKit itself sets for each platform it builds. */
export const AUTOMATIC_PLATFORM_ARGS = ['TARGETPLATFORM', 'TARGETOS', 'TARGETARCH', 'TARGETVARIANT'] as const;

/**
 * Build args for one buildx build of `platforms`, with BuildKit's platform args
 * kept consistent. Compose files often pin them (the override pattern
 * `TARGETARCH=${TARGETARCH:-amd64}`), which would stamp one architecture on every
 * platform of a multi-platform build. So, when the args name any of them:
 * - several platforms: they are left to BuildKit, which sets them per platform;
 * - one platform: they are set from that platform, in Docker's names;
 * - no platform (the builder's default): a `uname -m` value (`aarch64`, `x86_64`,
 *   `armv7l`) becomes Docker's name (`arm64`, `amd64`, `arm` + `v7`).
 */
export function consistentPlatformArgs(args: Record<string, string>, platforms: readonly string[]): Record<string, string> {
  const named = AUTOMATIC_PLATFORM_ARGS.filter((k) => k in args);
  if (!named.length) return args;
  const out = { ...args };
  for (const key of named) delete out[key];
  if (platforms.length > 1) return out;
  if (platforms.length === 1) {
    const p = parse(normalizePlatform(platforms[0]));
    const values: Record<string, string> = {
      TARGETPLATFORM: normalizePlatform(platforms[0]),
      TARGETOS: p.os,
      TARGETARCH: p.architecture,
      TARGETVARIANT: p.variant ?? '',
    };
    for (const key of named) out[key] = values[key];
    return out;
  }
  for (const key of named) {
    const value = args[key];
    if (key === 'TARGETARCH' && value) {
      try {
        const [arch, variant] = dockerArchFromUname(value).split('/');
        out.TARGETARCH = arch;
        if (variant && !('TARGETVARIANT' in args)) out.TARGETVARIANT = variant;
      } catch {
        out.TARGETARCH = value;
      }
    } else if (!(key in out)) {
      out[key] = value;
    }
  }
  return out;
}
