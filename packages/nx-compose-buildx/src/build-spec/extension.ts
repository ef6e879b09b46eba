/**
 * The service-level compose extension `x-nx-buildx`: settings Compose itself has
 * no key for. Compose ignores `x-` keys, so the same file still works with
 * `docker compose build`.
 *
 *   services:
 *     api:
 *       build: ./api
 *       x-nx-buildx:
 *         verify: ["/app/run-tests.sh"]     # docker-verify runs this on every platform
 */
export const EXTENSION_KEY = 'x-nx-buildx';

export interface ServiceExtension {
  /** Command run in the image on each platform by docker-verify, instead of `uname -m`. */
  verify?: string[];
}

export function readServiceExtension(definition: Record<string, unknown>): { value: ServiceExtension; problems: string[] } {
  const raw = definition[EXTENSION_KEY];
  const problems: string[] = [];
  const value: ServiceExtension = {};
  if (raw === undefined || raw === null) return { value, problems };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return { value, problems: [`${EXTENSION_KEY} must be a mapping`] };
  }
  for (const [key, v] of Object.entries(raw as Record<string, unknown>)) {
    if (key === 'verify') {
      if (typeof v === 'string' && v.trim()) value.verify = v.trim().split(/\s+/);
      else if (Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string')) value.verify = v as string[];
      else problems.push(`${EXTENSION_KEY}.verify must be a command string or a non-empty list of strings`);
    } else if (!key.startsWith('x-')) {
      problems.push(`unknown key "${key}" under ${EXTENSION_KEY} (known: verify)`);
    }
  }
  return { value, problems };
}
