import type * as Yaml from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import { childKey, pathKey, type PathPart } from './path-key';
import { readPlainBlockYaml } from './plain-block-yaml';
import { setKey } from './set-key';
import { ComposeError } from './types';

export { setKey, type PathPart };

/** A value tagged `!reset` (drop the inherited value) or `!override` (replace instead of merge). */
export class Tagged {
  constructor(
    readonly tag: 'reset' | 'override',
    readonly value: unknown,
  ) {}
}

/** One parsed compose (YAML) file: plain values (with `Tagged` wrappers) and the line of every key. */
export interface YamlSource {
  file: string;
  root: Record<string, unknown>;
  /** pathKey(path) → 1-based line of the key (or sequence item) at that path. */
  lines: Map<string, number>;
}

/** Line of the deepest recorded prefix of `path` (so a value inside a key falls back to the key's line). */
export function lineOf(source: Pick<YamlSource, 'lines'>, path: readonly PathPart[]): number | undefined {
  for (let n = path.length; n > 0; n--) {
    const line = source.lines.get(pathKey(path.slice(0, n)));
    if (line !== undefined) return line;
  }
  return undefined;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Tagged);
}

/**
 * How many values alias expansion may produce, `*alias` and `<<: *alias` alike: 10,000, or 10 per
 * byte of the file when that is more. Real compose files stay far below; a "billion laughs" file of
 * a few hundred bytes would otherwise expand to billions of values and hold the graph for minutes.
 * (yaml's own `maxAliasCount` guards only `toJS()`, which this module does not use.)
 */
export function aliasExpansionLimit(textLength: number): number {
  return Math.max(10_000, 10 * textLength);
}

const firstLine = (message: string) => message.split(/ at line \d+, column \d+/)[0].split('\n')[0];

/**
 * Parse one compose file. YAML errors become a ComposeError with file, line and column. Plain
 * block YAML, as most compose files are, is read without the yaml library (plain-block-yaml.ts);
 * the library is loaded only for the rest.
 */
export function parseYamlSource(text: string, file: string): YamlSource {
  return readPlainBlockYaml(text, file) ?? parseYamlDocument(text, file);
}

/** Parse one compose file with the yaml library's Document API (its node ranges give the lines). */
export function parseYamlDocument(text: string, file: string): YamlSource {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only for the files the plain block reader leaves
  const { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } = require('yaml') as typeof Yaml;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { merge: true, lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const pos = lineCounter.linePos(err.pos[0]);
    throw new ComposeError(`invalid YAML: ${firstLine(err.message)}`, { file, line: pos.line, column: pos.col });
  }
  const lines = new Map<string, number>();
  const lineAt = (node: { range?: [number, number, number] | null } | null | undefined) =>
    node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
  const record = (key: string, line: number | undefined) => {
    if (line !== undefined && !lines.has(key)) lines.set(key, line);
  };
  const limit = aliasExpansionLimit(text.length);
  let expanded = 0;
  let expandingAlias: YamlNode | undefined; // the outermost alias being expanded, for the error line
  const targets = new Map<object, YamlNode | undefined>();
  const convert = (node: unknown, path: string | undefined, depth: number): unknown => {
    if (depth > 200) throw new ComposeError('YAML nesting too deep (alias loop?)', { file, line: lineAt(node as YamlNode) });
    if (expandingAlias && ++expanded > limit) {
      throw new ComposeError(
        `YAML aliases expand to more than ${limit} values (an alias bomb?); write the values out or use fewer nested aliases`,
        {
          file,
          line: lineAt(expandingAlias),
        },
      );
    }
    if (node === null || node === undefined) return null;
    if (isAlias(node)) {
      // yaml's resolve() searches the document: once per alias node, not once per expansion.
      let target = targets.get(node);
      if (!targets.has(node)) targets.set(node, (target = node.resolve(doc as Document)));
      if (!target) throw new ComposeError(`unknown alias *${node.source}`, { file, line: lineAt(node) });
      if (expandingAlias) return convert(target, path, depth + 1);
      expandingAlias = node;
      try {
        return convert(target, path, depth + 1);
      } finally {
        expandingAlias = undefined;
      }
    }
    let value: unknown;
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      const merges: unknown[] = [];
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key;
        if (isScalar(keyNode) && keyNode.source === '<<' && keyNode.type === 'PLAIN') {
          merges.push(pair.value);
          continue;
        }
        const key = isScalar(keyNode) ? String(keyNode.value ?? 'null') : undefined;
        if (key === undefined)
          throw new ComposeError('only scalar mapping keys are supported', { file, line: lineAt(keyNode as YamlNode) });
        const at = childKey(path, key);
        record(at, lineAt(keyNode as YamlNode));
        setKey(out, key, convert(pair.value, at, depth + 1));
      }
      // `<<` merge keys: explicit keys win; among merged maps the earlier one wins.
      for (const m of merges) {
        const sources = isSeq(m) ? m.items : [m];
        for (const s of sources) {
          const merged = convert(s, path, depth + 1);
          if (!isPlainObject(merged))
            throw new ComposeError('merge key `<<` must reference a mapping', { file, line: lineAt(s as YamlNode) });
          for (const [k, v] of Object.entries(merged)) if (!Object.prototype.hasOwnProperty.call(out, k)) setKey(out, k, v);
        }
      }
      value = out;
    } else if (isSeq(node)) {
      value = node.items.map((item, i) => {
        const at = childKey(path, i);
        record(at, lineAt(item as YamlNode));
        return convert(item, at, depth + 1);
      });
    } else if (isScalar(node)) {
      value = node.value ?? null;
    } else {
      value = null;
    }
    const tag = (node as { tag?: string }).tag;
    if (tag === '!reset' || tag === '!override') return new Tagged(tag === '!reset' ? 'reset' : 'override', value);
    return value;
  };

  const root = convert(doc.contents, undefined, 0);
  if (root === null) return { file, root: {}, lines };
  if (!isPlainObject(root)) throw new ComposeError('top-level object must be a mapping', { file, line: 1 });
  return { file, root, lines };
}
