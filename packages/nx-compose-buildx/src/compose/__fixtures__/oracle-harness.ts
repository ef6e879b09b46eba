/**
 * Test helper shared by the oracle tests: loads one fixture case the way `scripts/compose-oracle/regenerate.mjs`
 * ran Docker Compose on it (same working folder, `-f` files, environment), and reads the committed output.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadComposeCliProject } from '../load-from-disk';
import type { ComposeProject } from '../types';

export interface OracleCase {
  name: string;
  dir: string;
  /** Folder Compose ran in (the case folder, or its `workdir`). */
  workdir: string;
  /** The `-f` files (absolute), if the case gives any. */
  files?: string[];
  env: Record<string, string>;
}

export function listCases(root: string): OracleCase[] {
  const fixedEnv: Record<string, string> = JSON.parse(fs.readFileSync(path.join(root, 'oracle-env.json'), 'utf8'));
  return fs
    .readdirSync(root)
    .filter((name) => fs.statSync(path.join(root, name)).isDirectory())
    .sort()
    .map((name) => {
      const dir = path.join(root, name);
      const caseFile = path.join(dir, 'oracle-case.json');
      const spec = fs.existsSync(caseFile) ? JSON.parse(fs.readFileSync(caseFile, 'utf8')) : {};
      const workdir = path.join(dir, spec.workdir ?? '.');
      const files: string[] | undefined = spec.files?.map((f: string) => path.join(workdir, f));
      return { name, dir, workdir, files, env: { ...fixedEnv, ...(spec.env ?? {}) } };
    });
}

export function loadCase(c: OracleCase): ComposeProject {
  return loadComposeCliProject({ workingDir: c.workdir, ...(c.files ? { files: c.files } : {}) }, c.env);
}

/** Compose prints a literal `$` as `$$` in its output; undo that to compare values. */
export function unescapeDollars(v: unknown): unknown {
  if (typeof v === 'string') return v.replace(/\$\$/g, '$');
  if (Array.isArray(v)) return v.map(unescapeDollars);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, unescapeDollars(e)]));
  return v;
}

/** The committed `docker compose config --format json` output, `$$` undone. */
export function readExpected(c: OracleCase): Record<string, any> {
  return unescapeDollars(JSON.parse(fs.readFileSync(path.join(c.dir, 'expected.json'), 'utf8'))) as Record<string, any>;
}

export const withPlaceholder = (v: unknown, dir: string): unknown => JSON.parse(JSON.stringify(v).split(dir).join('<FIXTURE>'));
