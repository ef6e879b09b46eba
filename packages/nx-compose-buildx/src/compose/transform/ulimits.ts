import type { Transform } from './types';

/** `ulimits.<name>` (and `build.ulimits.<name>`): a number or `{soft, hard}`, both canonical. */
export const transformUlimits: Transform = (value) => value;
