/** Host facts for the platform check: the binfmt_misc entries and the machine architecture. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { arch } from 'node:os';
import { join } from 'node:path';

export const BINFMT_DIR = '/proc/sys/fs/binfmt_misc';

/** binfmt_misc file name → content (`register` skipped); empty when binfmt_misc is not mounted. */
export function readBinfmtMisc(dir = BINFMT_DIR): Record<string, string> {
  if (!existsSync(dir)) return {};
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir)) {
    if (name === 'register') continue;
    try {
      out[name] = readFileSync(join(dir, name), 'utf8');
    } catch {
      // unreadable entry: ignore
    }
  }
  return out;
}

/** Node's arch → Docker arch (`x64` → `amd64`, `ia32` → `386`). */
export function hostArch(nodeArch: string = arch()): string {
  const map: Record<string, string> = {
    x64: 'amd64',
    ia32: '386',
    arm64: 'arm64',
    arm: 'arm',
    ppc64: 'ppc64le',
    s390x: 's390x',
    riscv64: 'riscv64',
    loong64: 'loong64',
  };
  return map[nodeArch] ?? nodeArch;
}
