import { createHash } from 'node:crypto';
import { EXTENSION_KEY, readServiceExtension } from '../build-spec/extension';
import { platformSlug } from '../buildx/platform';
import { setKey } from '../compose/yaml-source';

/**
 * The service lock: a committed JSON file holding one hash per service of its
 * resolved compose definition. Nx can watch a single field of a JSON file, but
 * treats a YAML file as a whole, so this file is what lets an edit to service B
 * in a shared compose file select B and not A. Only hashes are stored: no
 * values (and so no secrets) leak into the repository.
 *
 * The hashes must be the same in every checkout (a CI runner clones to its own
 * path), so they are taken over what the committed files say: absolute paths
 * inside the workspace are hashed workspace-relative (see inCheckoutTerms) and
 * the process environment is left out (create-nodes loads a committed-only view).
 *
 * `nx sync` (the nx-compose-buildx:sync generator) rewrites it; `nx sync:check`
 * in CI fails when it is stale. While it is stale for a service, that service
 * falls back to watching its compose files whole, so a rebuild is never missed.
 */
export { SERVICE_LOCK_FILE } from './service-lock-file';

export interface ServiceLock {
  services: Record<string, string>;
}

/** Nx reads `fields` as dotted paths, so dots in a project name are escaped. */
export function serviceLockKey(project: string): string {
  return project.replace(/%/g, '%25').replace(/\./g, '%2E');
}

/** Hash of plain JSON data with object keys sorted, so key order never matters. */
export function stableHash(value: unknown): string {
  return createHash('sha256').update(stableStringify(value)).digest('hex').slice(0, 32);
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** Stands for the workspace root in hashed values. */
const WORKSPACE_ROOT_TOKEN = '{workspaceRoot}';

/**
 * The loader makes path-valued keys absolute (build.context, additional_contexts,
 * env_file, ...), as Compose prints them. Rewritten here, every occurrence of the
 * workspace root in a string becomes `{workspaceRoot}`, so a definition reads the
 * same whichever folder the repository is checked out in. Only whole path
 * segments match: `/ws` does not touch `/ws2/x`.
 */
export function inCheckoutTerms<T>(value: T, workspaceRoot: string): T {
  const root = workspaceRoot.replace(/\\/g, '/').replace(/\/+$/, '');
  if (!root) return value;
  const escaped = root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(escaped + String.raw`(?=$|[/:=,;\s"'])`, 'g');
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return v.includes(root) ? v.replace(pattern, WORKSPACE_ROOT_TOKEN) : v;
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v as Record<string, unknown>)) setKey(out, k, walk(item));
      return out;
    }
    return v;
  };
  return walk(value) as T;
}

/** Lock entry of one platform of a service built per platform: `<project>@<platform-slug>`. */
export function platformLockName(project: string, platform: string): string {
  return `${project}@${platformSlug(platform)}`;
}

/**
 * Lock entries of one service definition. A service built per platform (`platforms`
 * non-empty) gets one entry per platform holding only that platform's args and config
 * overlay, and its own entry leaves those out, so editing one platform's part changes
 * that platform's entry alone. Paths are hashed relative to `workspaceRoot` (inCheckoutTerms).
 */
export function serviceDefinitionHashes(
  project: string,
  service: string,
  resolved: Record<string, unknown> | undefined,
  platforms: readonly string[],
  workspaceRoot: string,
): Record<string, string> {
  const definition = resolved && inCheckoutTerms(resolved, workspaceRoot);
  if (!platforms.length || !definition) return { [project]: stableHash({ service, definition }) };
  const { platformArgs, platformConfig } = readServiceExtension(definition).value;
  const written = definition[EXTENSION_KEY];
  const raw = (typeof written === 'object' && written !== null && !Array.isArray(written) ? written : {}) as Record<string, unknown>;
  const { platformArgs: _args, platformConfig: rawConfig, ...shared } = raw;
  const { overlays: _overlays, ...sharedConfig } = (rawConfig ?? {}) as Record<string, unknown>;
  const hashes: Record<string, string> = {
    [project]: stableHash({
      service,
      definition: { ...definition, [EXTENSION_KEY]: { ...shared, ...(rawConfig ? { platformConfig: sharedConfig } : {}) } },
    }),
  };
  for (const platform of platforms) {
    hashes[platformLockName(project, platform)] = stableHash({
      service,
      platform,
      args: platformArgs?.[platform],
      overlay: platformConfig?.overlays[platform],
    });
  }
  return hashes;
}

export function renderServiceLock(hashes: Record<string, string>): string {
  const services: Record<string, string> = {};
  for (const project of Object.keys(hashes).sort()) services[serviceLockKey(project)] = hashes[project];
  return `${JSON.stringify({ $comment: 'Generated by nx-compose-buildx (nx sync). Do not edit.', services }, null, 2)}\n`;
}

export function parseServiceLock(text: string | undefined): ServiceLock | undefined {
  if (!text) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<ServiceLock>;
    return parsed && typeof parsed.services === 'object' && parsed.services ? { services: parsed.services } : undefined;
  } catch {
    return undefined;
  }
}

export function isServiceLockCurrent(lock: ServiceLock | undefined, project: string, hash: string): boolean {
  return lock?.services[serviceLockKey(project)] === hash;
}
