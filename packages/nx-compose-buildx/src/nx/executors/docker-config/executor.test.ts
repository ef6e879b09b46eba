import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { tmpContext } from '../shared/__fixtures__/fake-deps';
import { deepMerge, parseConfig, renderConfig, type ConfigValue } from './config';
import { dockerConfig } from './executor';

describe('deepMerge', () => {
  it.each<{ name: string; base: ConfigValue; overlay: ConfigValue | undefined; expected: ConfigValue }>([
    { name: 'no overlay keeps the base', base: { a: 1 }, overlay: undefined, expected: { a: 1 } },
    {
      name: 'mappings merge key by key, deeply',
      base: { optimizations: { simd: false, neon: false }, name: 'app' },
      overlay: { optimizations: { neon: true } },
      expected: { optimizations: { simd: false, neon: true }, name: 'app' },
    },
    { name: 'lists are replaced, not concatenated', base: { l: [1, 2] }, overlay: { l: [3] }, expected: { l: [3] } },
    { name: 'null replaces', base: { a: { b: 1 } }, overlay: { a: null }, expected: { a: null } },
    { name: 'new keys are added', base: { a: 1 }, overlay: { b: { c: 2 } }, expected: { a: 1, b: { c: 2 } } },
    { name: 'a scalar overlay replaces the whole base', base: { a: 1 }, overlay: 'x', expected: 'x' },
  ])('$name', ({ base, overlay, expected }) => {
    expect(deepMerge(base, overlay)).toEqual(expected);
  });

  it.each([
    ['c.json', '{"a":1}', { a: 1 }],
    ['c.yaml', 'a: 1\nb: [x]\n', { a: 1, b: ['x'] }],
    ['c.YML', 'a: {b: true}', { a: { b: true } }],
  ])('parses %s', (file, text, expected) => expect(parseConfig(text, file)).toEqual(expected));

  it('names the file it cannot parse', () => {
    expect(() => parseConfig('{', 'config/base.json')).toThrow(/Cannot parse config\/base\.json/);
  });

  it.each([
    ['config.json', (t: string) => JSON.parse(t)],
    ['config.yaml', (t: string) => parse(t)],
  ])('renders %s in its format', (name, read) => {
    expect(read(renderConfig({ a: { b: [1] } }, name))).toEqual({ a: { b: [1] } });
  });
});

describe('docker-config executor', () => {
  it('writes base + overlay into the output folder, replacing what was there', async () => {
    const ctx = tmpContext();
    mkdirSync(join(ctx.root, 'app/config'), { recursive: true });
    writeFileSync(join(ctx.root, 'app/config/base.yaml'), 'optimizations:\n  simd: false\n  neon: false\nlevel: 1\n');
    writeFileSync(join(ctx.root, 'app/config/arm64.json'), '{"optimizations":{"neon":true}}');
    mkdirSync(join(ctx.root, 'dist/docker-config/api/linux-arm64'), { recursive: true });
    writeFileSync(join(ctx.root, 'dist/docker-config/api/linux-arm64/stale.json'), '{}');
    const logs: string[] = [];
    const options = {
      base: 'app/config/base.yaml',
      overlay: 'app/config/arm64.json',
      name: 'config.json',
      outputPath: 'dist/docker-config/api/linux-arm64',
    };
    expect(await dockerConfig(options, ctx, (l) => logs.push(l))).toEqual({ success: true });
    expect(JSON.parse(readFileSync(join(ctx.root, 'dist/docker-config/api/linux-arm64/config.json'), 'utf8'))).toEqual({
      optimizations: { simd: false, neon: true },
      level: 1,
    });
    expect(() => readFileSync(join(ctx.root, 'dist/docker-config/api/linux-arm64/stale.json'))).toThrow();
  });

  it('fails with the file name when a file is missing', async () => {
    const ctx = tmpContext();
    const logs: string[] = [];
    expect(await dockerConfig({ base: 'nope.json', name: 'c.json', outputPath: 'out' }, ctx, (l) => logs.push(l))).toEqual({
      success: false,
    });
    expect(logs.join('\n')).toMatch(/nope\.json/);
  });
});
