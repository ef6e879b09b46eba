import type { InterpolationEnvironment } from './types';
import type { VariableLookup } from './interpolate';

/** Compose's lookup order: the process environment first, then the project's `.env`. */
export function lookupIn(env: InterpolationEnvironment): VariableLookup {
  return (name) => {
    const fromProcess = Object.prototype.hasOwnProperty.call(env.process, name) ? env.process[name] : undefined;
    if (fromProcess !== undefined) return fromProcess;
    return Object.prototype.hasOwnProperty.call(env.dotenv, name) ? env.dotenv[name] : undefined;
  };
}
