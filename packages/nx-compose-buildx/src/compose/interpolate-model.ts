/** Interpolation of every string VALUE of one parsed compose file (never keys), with error locations. */
import { interpolate, InterpolationError, type InterpolateOptions, type VariableLookup } from './interpolate';
import { ComposeError } from './types';
import { isPlainObject, lineOf, setKey, Tagged, type PathPart, type YamlSource } from './yaml-source';

export interface InterpolatedModel {
  root: Record<string, unknown>;
  /** Service name → variable names looked up anywhere in that service's definition (in this file). */
  serviceVariables: Map<string, Set<string>>;
  /** Variable names looked up outside `services` (top-level `name`, `include`, `secrets`...). */
  otherVariables: Set<string>;
}

export function interpolateModel(source: YamlSource, lookup: VariableLookup, options: InterpolateOptions = {}): InterpolatedModel {
  const serviceVariables = new Map<string, Set<string>>();
  const otherVariables = new Set<string>();

  // One path array, pushed and popped as the walk descends, instead of a copy per node.
  const path: PathPart[] = [];
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') {
      if (!value.includes('$')) return value;
      const service = path[0] === 'services' && path.length > 1 ? String(path[1]) : undefined;
      try {
        const { value: out, variables } = interpolate(value, lookup, options);
        const sink = service === undefined ? otherVariables : getOrCreate(serviceVariables, service);
        for (const v of variables) sink.add(v);
        return out;
      } catch (e) {
        if (!(e instanceof InterpolationError)) throw e;
        throw new ComposeError(`error while interpolating ${path.join('.')}: ${e.message}`, {
          file: source.file,
          line: lineOf(source, path),
          service,
        });
      }
    }
    if (value instanceof Tagged) return new Tagged(value.tag, walk(value.value));
    if (Array.isArray(value)) return value.map((v, i) => within(i, v));
    if (isPlainObject(value)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) setKey(out, k, within(k, v));
      return out;
    }
    return value;
  };
  const within = (part: PathPart, value: unknown): unknown => {
    path.push(part);
    try {
      return walk(value);
    } finally {
      path.pop();
    }
  };

  return { root: walk(source.root) as Record<string, unknown>, serviceVariables, otherVariables };
}

function getOrCreate(map: Map<string, Set<string>>, key: string): Set<string> {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  return set;
}
