/**
 * Set a key without tripping over `__proto__`. Its own module, free of the yaml parser: the
 * executors use it too (through build-spec/build-fields.ts), and load only what they run.
 */
export function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}
