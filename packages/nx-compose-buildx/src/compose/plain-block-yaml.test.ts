/**
 * The plain block reader against the yaml library's path: whenever the reader answers, the
 * library must parse the same text without error to the same values and lines. Checked on
 * snippets, on every YAML file in the repository, and on those files mutated line by line
 * (deleted, re-indented, duplicated, cut), so that malformed text is seen to fall back.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readPlainBlockYaml } from './plain-block-yaml';
import { parseYamlDocument, type YamlSource } from './yaml-source';

const FILE = '/p/compose.yaml';

/** What the library path gives: the source, or the error it throws. */
function library(text: string): { source: YamlSource } | { error: unknown } {
  try {
    return { source: parseYamlDocument(text, FILE) };
  } catch (error) {
    return { error };
  }
}

/** undefined when the reader agrees with the library (or leaves the text to it), else what differs. */
function disagreement(text: string): string | undefined {
  const fast = readPlainBlockYaml(text, FILE);
  if (!fast) return undefined;
  const lib = library(text);
  if ('error' in lib) return `the reader accepted text the library rejects: ${String(lib.error)}`;
  if (!isDeepStrictEqual(fast.root, lib.source.root)) return `values: ${JSON.stringify(fast.root)} vs ${JSON.stringify(lib.source.root)}`;
  if (!isDeepStrictEqual(fast.lines, lib.source.lines))
    return `lines: ${JSON.stringify([...fast.lines])} vs ${JSON.stringify([...lib.source.lines])}`;
  return undefined;
}

const READ = [
  ['empty file', ''],
  ['comments only', '# a\n  # b\n\n'],
  [
    'a compose file',
    'name: p\nservices:\n  web:\n    image: reg:5000/p/web:${TAG:-latest}\n    build:\n      context: ./web\n      platforms: [linux/amd64, linux/arm64]\n      args:\n        BASE: x\n',
  ],
  ['a sequence at its key indentation', 'a:\n- x\n- y\nb: 1\n'],
  ['a deeper sequence', 'a:\n    - x\n    - "y"\nb:\n  c: 1\n'],
  ['mappings in a sequence', 'secrets:\n  - source: a\n    target: b\n  -   source: c\n  - d\n'],
  ['a sequence in a mapping in a sequence', 'x:\n- a:\n  - 1\n  - 2\n  b: 3\n- c\n'],
  ['nested mapping in a sequence item', 'x:\n  - build:\n      context: .\n    image: i\n'],
  ['quoted scalars', `a: "80:80"\nb: 'it is'\nc: "with 'single'"\nd: 'with "double" and \\'\ne: ""\n`],
  ['comments after values', 'a: 1 # one\nb: "x" # two\nc: [a, b] # three\nd: {} # four\ne: # five\n  f: 6\ng: a#b\n'],
  ['flow sequences', 'a: []\nb: [ ]\nc: [1, two, "3:3", \'4\', true, null]\nd: [a, b,]\ne: [a b, c]\n'],
  ['empty values', 'a:\nb: ~\nc: null\nd: Null\ne: {}\n'],
  ['booleans stay YAML 1.2', 'a: yes\nb: no\nc: on\nd: True\ne: FALSE\nf: tRUE\n'],
  [
    'numbers',
    'a: 1\nb: 0123\nc: +7\nd: 0o17\ne: 0x1F\nf: 1.5\ng: .5\nh: 1.\ni: 1e3\nj: 2.5E-2\nk: .inf\nl: +.Inf\nm: .nan\nn: 1_000\no: 0o8\np: 12345678901234567890\nq: 1.10\n',
  ],
  ['numeric and special keys', '1: a\n1.5: b\n0x10: c\ntrue: d\nnull: e\n.inf: f\n'],
  ['dots, slashes and dashes in keys', 'com.example.label: x\na/b: y\nx-ext: z\nA_B-c.d: w\n'],
  [
    'plain scalars with indicators inside',
    'a: b:c\nb: a, b\nc: x [y] {z}\nd: echo "hi" \'there\'\ne: 127.0.0.1:5000/x:y\nf: ${A:?msg}\ng: a - b\n',
  ],
  ['__proto__ is data', '__proto__:\n  polluted: true\n'],
  ['trailing spaces', 'a: b   \nc:   \n  d: e  \n'],
] as const;

const LEFT = [
  ['anchors and aliases', 'x: &a {k: 1}\ny: *a\n'],
  ['merge keys', 'x:\n  <<: {k: 1}\n'],
  ['tags', 'a: !reset []\n'],
  ['block scalars', 'a: |\n  x\n'],
  ['multi-line plain scalars', 'a: b\n  c\n'],
  ['a value on the next line', 'a:\n  b\n'],
  ['escapes', 'a: "x\\ty"\n'],
  ['doubled single quotes', "a: 'it''s'\n"],
  ['flow mappings', 'a: {k: 1}\n'],
  ['tabs', 'a:\tb\n'],
  ['CRLF', 'a: b\r\n'],
  ['non-ASCII', 'a: é\n'],
  ['a byte-order mark', '\ufeffa: b\n'],
  ['document markers', '---\na: b\n'],
  ['duplicate keys', 'a: 1\na: 2\n'],
  ['duplicate keys by value', '1: a\n1.0: b\n'],
  ['bad indentation', 'services:\n  a:\n    build: .\n   image: x\n'],
  ['unclosed flow', 'a: [1, 2\nb: 3\n'],
  ['a top-level list', '- a\n- b\n'],
  ['an indented top level', '  a: b\n'],
  ['a nested mapping on one line', 'a: b: c\n'],
  ['quoted keys', '"a": b\n'],
  ['leading dash values', 'a: -1\n'],
  ['an item on the next line', 'a:\n  -\n    b: c\n'],
  ['compact nested sequences', 'a:\n  - - x\n'],
  ['an empty flow item', 'a: [x,,y]\n'],
  ['a pair in a flow sequence', 'a: [b: c]\n'],
  ['text after a quoted scalar', 'a: "b" c\n'],
  ['a key without a space after the colon', 'a:b\n'],
] as const;

describe('readPlainBlockYaml', () => {
  it.each(READ)('reads %s as the library does', (_name, text) => {
    expect(readPlainBlockYaml(text, FILE)).toBeDefined();
    expect(disagreement(text)).toBeUndefined();
  });

  it.each(LEFT)('leaves %s to the library', (_name, text) => {
    expect(readPlainBlockYaml(text, FILE)).toBeUndefined();
  });

  it('records key and item lines as the library does', () => {
    const text = 'services:\n  web:\n    # c\n    build:\n      platforms:\n        - a\n        - b\n      tags: [x,\n';
    expect(readPlainBlockYaml(text, FILE)).toBeUndefined(); // an unclosed flow sequence
    const ok = readPlainBlockYaml(text.replace('[x,\n', '[x, y]\n'), FILE)!;
    expect(ok.lines.get(['services', 'web', 'build'].join('\u0000'))).toBe(4);
    expect(ok.lines.get(['services', 'web', 'build', 'platforms', '1'].join('\u0000'))).toBe(7);
    expect(ok.lines.get(['services', 'web', 'build', 'tags', '1'].join('\u0000'))).toBe(8);
  });

  const repo = path.resolve(__dirname, '../../../..');
  const yamlUnder = (dir: string): string[] =>
    fs.readdirSync(path.join(repo, dir), { withFileTypes: true }).flatMap((e) => {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) return e.name === 'node_modules' || e.name.startsWith('.') ? [] : yamlUnder(rel);
      return /\.ya?ml$/.test(e.name) ? [rel] : [];
    });
  const yamlFiles = [...yamlUnder('packages/nx-compose-buildx/src'), ...yamlUnder('examples')];

  it('reads most of the repository’s compose files itself', () => {
    expect(yamlFiles.length).toBeGreaterThan(40);
    const read = yamlFiles.filter((f) => readPlainBlockYaml(fs.readFileSync(path.join(repo, f), 'utf-8'), FILE));
    expect(read.length).toBeGreaterThan(yamlFiles.length / 3);
  });

  it.each(yamlFiles)('agrees with the library on %s and its line-by-line mutations', (file) => {
    const text = fs.readFileSync(path.join(repo, file), 'utf-8');
    const lines = text.split('\n');
    const variants = [text];
    const step = Math.ceil(lines.length / 100); // about 100 lines of each file, to keep the test short
    for (let i = 0; i < lines.length; i += step) {
      const edit = (line: string[]) => variants.push([...lines.slice(0, i), ...line, ...lines.slice(i + 1)].join('\n'));
      edit([]);
      edit([` ${lines[i]}`]);
      edit([lines[i].replace(/^ /, '')]);
      edit([lines[i], lines[i]]);
      edit([lines[i].slice(0, Math.ceil(lines[i].length / 2))]);
      edit([`${lines[i]}:`]);
    }
    const problems = variants.map((v) => [v, disagreement(v)]).filter(([, d]) => d !== undefined);
    expect(problems.slice(0, 3)).toEqual([]);
  });
});
