/** Per-platform config: a base file deep-merged with a platform's overlay (JSON or YAML). */
import { parse, stringify } from 'yaml';

export type ConfigValue = null | boolean | number | string | ConfigValue[] | { [key: string]: ConfigValue };

const isObject = (v: unknown): v is Record<string, ConfigValue> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Mappings merge key by key; anything else in the overlay (scalars, lists, null) replaces the base value. */
export function deepMerge(base: ConfigValue, overlay: ConfigValue | undefined): ConfigValue {
  if (overlay === undefined) return base;
  if (!isObject(base) || !isObject(overlay)) return overlay;
  const out: Record<string, ConfigValue> = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    // A key named like a built-in property (`__proto__`, `constructor`) is data, like any other.
    const merged = Object.hasOwn(base, key) ? deepMerge(base[key]!, value) : value;
    Object.defineProperty(out, key, { value: merged, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

const isYaml = (file: string) => /\.ya?ml$/i.test(file);

/** JSON, or YAML for `.yaml` / `.yml` files; `file` names the source in errors. */
export function parseConfig(text: string, file: string): ConfigValue {
  try {
    return (isYaml(file) ? parse(text) : JSON.parse(text)) as ConfigValue;
  } catch (e) {
    throw new Error(`Cannot parse ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/** The merged config in the format its name asks for. */
export function renderConfig(value: ConfigValue, name: string): string {
  return isYaml(name) ? stringify(value) : `${JSON.stringify(value, null, 2)}\n`;
}
