/**
 * Platform strings (`os/arch[/variant]`) as Docker and BuildKit understand them, normalised the way
 * containerd's `platforms.Normalize` does, and their mapping to what an emulated container reports
 * (`uname -m`) and to the qemu binfmt_misc entry that makes the emulation work.
 */
import { closest } from './closest';

export const KNOWN_OS = ['linux', 'windows', 'darwin', 'freebsd', 'netbsd', 'openbsd', 'illumos', 'solaris', 'aix'] as const;

/** Docker architecture names with the variants each accepts (empty: no variant). */
const ARCH_VARIANTS: Record<string, string[]> = {
  amd64: ['v1', 'v2', 'v3', 'v4'],
  arm64: ['v8', 'v9'],
  arm: ['v5', 'v6', 'v7', 'v8'],
  '386': [],
  ppc64le: [],
  ppc64: [],
  s390x: [],
  riscv64: [],
  mips64le: [],
  mips64: [],
  mipsle: [],
  mips: [],
  loong64: [],
  wasm: [],
};
export const KNOWN_ARCHES = Object.keys(ARCH_VARIANTS);

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
  if (!(arch in ARCH_VARIANTS)) {
    throw new InvalidPlatformError(input, `unknown architecture "${archIn}"`, suggest(raw));
  }
  let variant = variantIn ?? alias?.variant;
  if (variant !== undefined) {
    if (/^\d+$/.test(variant)) variant = `v${variant}`;
    if (!ARCH_VARIANTS[arch]!.includes(variant)) {
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
  switch (architecture) {
    case 'amd64':
      return 'x86_64';
    case 'arm64':
      return 'aarch64';
    case 'arm':
      return `arm${variant ?? 'v7'}l`;
    case '386':
      return 'i686';
    case 'mips64le':
    case 'mips64':
      return 'mips64';
    case 'mipsle':
    case 'mips':
      return 'mips';
    case 'loong64':
      return 'loongarch64';
    default:
      return architecture; // ppc64le, ppc64, s390x, riscv64
  }
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
  const { architecture } = parse(platform);
  switch (architecture) {
    case 'amd64':
      return 'x86_64';
    case 'arm64':
      return 'aarch64';
    case 'arm':
      return 'arm';
    case '386':
      return 'i386';
    case 'mips64le':
      return 'mips64el';
    case 'mipsle':
      return 'mipsel';
    case 'loong64':
      return 'loongarch64';
    default:
      return architecture;
  }
}

/** `uname -m` (or a Docker arch) → Docker arch with variant: `x86_64` → `amd64`, `armv7l` → `arm/v7`. */
export function dockerArchFromUname(machine: string): string {
  const m = machine.trim().toLowerCase();
  const alias = ARCH_ALIASES[m];
  if (alias) return alias.variant ? `${alias.arch}/${alias.variant}` : alias.arch;
  if (m in ARCH_VARIANTS) return m === 'arm' ? 'arm/v7' : m;
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
