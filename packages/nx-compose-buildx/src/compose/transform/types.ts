/** A canonical-form transform for the value at one key path (compose-go `transform.transformFunc`). */
export type Transform = (value: unknown, path: readonly string[], descend: (value: unknown, path: readonly string[]) => unknown) => unknown;
