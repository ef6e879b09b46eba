/**
 * A fast reader for the plain block subset of YAML that most compose files are written in:
 * block mappings and sequences (a sequence may sit at its key's indentation), one-line plain,
 * single- or double-quoted scalars without escapes, one-line flow sequences of such scalars,
 * `{}`, comments. Anything else (anchors, aliases, `<<`, tags, block scalars, multi-line
 * scalars, escapes, flow mappings, tabs, CR, non-ASCII text, document markers, duplicate keys,
 * anything malformed) makes it answer `undefined`, and the caller parses with the yaml library,
 * which also words every error. On the subset it gives exactly what that path gives, values and
 * lines (plain-block-yaml.test.ts compares the two): it exists because the library costs about
 * 4 ms per compose file in a fresh plugin worker, most of a cold graph's YAML time, and loading
 * it another 50 ms.
 */
import { childKey } from './path-key';
import { setKey } from './set-key';
import type { YamlSource } from './yaml-source';

interface Line {
  /** 1-based line number. */
  number: number;
  indent: number;
  /** The line without its indentation; never empty, never a comment. */
  text: string;
}

/** Thrown inside the reader when the text leaves the subset; never escapes it. */
class OutsideSubset extends Error {}
const outside = (): never => {
  throw new OutsideSubset();
};

// A plain key: no quotes, no indicator first, no spaces, no `:` or `#` inside (so `<<` never matches).
const PLAIN_KEY = /^([A-Za-z0-9_./][A-Za-z0-9_./$+-]*):(?: +|$)/;
// What a plain scalar may not start with (YAML indicators), `-` included: `-x` is left to the library.
const INDICATOR_FIRST = /^[-?:,[\]{}#&*!|>'"%@`]/;
const MAX_DEPTH = 100; // far below the library path's nesting limit (200), so its error wins
const MAX_KEY = 1000; // YAML caps an implicit key at 1,024 characters: the library words the error

/** The compose file as plain values and key lines, or undefined when the text is outside the subset. */
export function readPlainBlockYaml(text: string, file: string): YamlSource | undefined {
  if (!/^[\n\x20-\x7e]*$/.test(text)) return undefined;
  const lines: Line[] = [];
  const raw = text.split('\n');
  for (let i = 0; i < raw.length; i++) {
    const line = raw[i];
    if (line.startsWith('---') || line.startsWith('...') || line.startsWith('%')) return undefined;
    let indent = 0;
    while (line.charCodeAt(indent) === 32) indent++;
    const rest = line.slice(indent).trimEnd();
    if (rest === '' || rest[0] === '#') continue;
    lines.push({ number: i + 1, indent, text: rest });
  }
  const keyLines = new Map<string, number>();
  try {
    if (lines.length === 0) return { file, root: {}, lines: keyLines };
    if (lines[0].indent !== 0 || isSequenceItem(lines[0].text)) return undefined;
    const reader = new BlockReader(lines, keyLines);
    const root = reader.mapping(0, undefined, 0);
    if (!reader.done()) return undefined;
    return { file, root, lines: keyLines };
  } catch (e) {
    if (e instanceof OutsideSubset) return undefined;
    throw e;
  }
}

const isSequenceItem = (text: string) => text === '-' || text.startsWith('- ');

class BlockReader {
  private at = 0;

  constructor(
    private readonly lines: Line[],
    private readonly keyLines: Map<string, number>,
  ) {}

  done(): boolean {
    return this.at === this.lines.length;
  }

  private record(path: string, line: number): void {
    if (!this.keyLines.has(path)) this.keyLines.set(path, line);
  }

  /** A block mapping whose keys sit at `indent`; the current line is its first key. */
  mapping(indent: number, path: string | undefined, depth: number): Record<string, unknown> {
    if (depth > MAX_DEPTH) outside();
    const out: Record<string, unknown> = {};
    while (this.at < this.lines.length) {
      const line = this.lines[this.at];
      if (line.indent < indent) break;
      if (line.indent > indent || isSequenceItem(line.text)) outside();
      const match = PLAIN_KEY.exec(line.text) ?? outside();
      if (match[1].length > MAX_KEY) outside();
      const key = String(plainScalar(match[1]) ?? 'null');
      if (Object.prototype.hasOwnProperty.call(out, key)) outside(); // the library reports duplicates
      const at = childKey(path, key);
      this.record(at, line.number);
      const rest = line.text.slice(match[0].length);
      this.at++;
      setKey(out, key, rest === '' || rest[0] === '#' ? this.nested(indent, at, depth) : this.inline(rest, at, line, indent));
    }
    return out;
  }

  /** A block sequence whose `- ` sits at `indent`; the current line is its first item. */
  private sequence(indent: number, path: string, depth: number): unknown[] {
    if (depth > MAX_DEPTH) outside();
    const out: unknown[] = [];
    while (this.at < this.lines.length) {
      const line = this.lines[this.at];
      if (line.indent < indent || (line.indent === indent && !isSequenceItem(line.text))) break;
      if (line.indent > indent || line.text === '-') outside();
      let offset = 2;
      while (line.text.charCodeAt(offset) === 32) offset++;
      const item = line.text.slice(offset);
      if (item[0] === '#' || isSequenceItem(item)) outside(); // an item on the next line, or `- - x`
      const at = childKey(path, out.length);
      this.record(at, line.number);
      if (PLAIN_KEY.test(item)) {
        // `- key: value`: a mapping whose keys sit at the item's column
        this.lines[this.at] = { number: line.number, indent: line.indent + offset, text: item };
        out.push(this.mapping(line.indent + offset, at, depth + 1));
      } else {
        this.at++;
        out.push(this.inline(item, at, line, indent));
      }
    }
    return out;
  }

  /** The value of `key:` with nothing after it: a deeper block, a sequence at the key's indentation, or null. */
  private nested(indent: number, path: string, depth: number): unknown {
    const next = this.lines[this.at];
    if (next && next.indent === indent && isSequenceItem(next.text)) return this.sequence(indent, path, depth + 1);
    if (!next || next.indent <= indent) return null;
    return isSequenceItem(next.text) ? this.sequence(next.indent, path, depth + 1) : this.mapping(next.indent, path, depth + 1);
  }

  /** A value written on its key's (or item's) line; nothing may continue it on deeper lines. */
  private inline(text: string, path: string, line: Line, indent: number): unknown {
    const next = this.lines[this.at];
    if (next && next.indent > indent) outside(); // a multi-line scalar, or bad indentation
    if (text[0] === '[') {
      const items = flowSequence(text);
      items.forEach((_, i) => this.record(childKey(path, i), line.number));
      return items;
    }
    if (text === '{}' || /^\{\} +#/.test(text)) return {};
    return withoutComment(scalar(text));
  }
}

/** A scalar and whatever follows it on the line (empty or a comment). */
interface ScalarText {
  value: unknown;
  after: string;
}

function withoutComment({ value, after }: ScalarText): unknown {
  if (after !== '' && !/^ +#/.test(after)) outside();
  return value;
}

/** A quoted scalar without escapes, or a plain scalar up to a comment. */
function scalar(text: string): ScalarText {
  const quote = text[0];
  if (quote === '"' || quote === "'") {
    const end = text.indexOf(quote, 1);
    if (end < 0) outside();
    const value = text.slice(1, end);
    // `\` escapes in double quotes and `''` in single quotes are the library's to decode
    if ((quote === '"' && value.includes('\\')) || (quote === "'" && text[end + 1] === "'")) outside();
    return { value, after: text.slice(end + 1) };
  }
  if (INDICATOR_FIRST.test(text)) outside();
  const comment = text.indexOf(' #');
  const plain = (comment < 0 ? text : text.slice(0, comment)).trimEnd();
  if (plain.includes(': ') || plain.endsWith(':')) outside(); // a nested mapping: an error there
  return { value: plainScalar(plain), after: comment < 0 ? '' : text.slice(comment) };
}

/** `[a, "b", 3]` on one line: plain or quoted items without commas, brackets or braces. */
function flowSequence(text: string): unknown[] {
  const end = text.indexOf(']');
  if (end < 0) outside();
  withoutComment({ value: undefined, after: text.slice(end + 1) });
  const body = text.slice(1, end);
  if (/[[{}#]/.test(body)) outside();
  if (body.trim() === '') return [];
  const parts = body.split(',');
  if (parts[parts.length - 1].trim() === '') parts.pop(); // `[a, b,]`
  return parts.map((part) => {
    const item = part.trim();
    // `[a,,b]` is an error; a plain `a: b` is a pair (a quoted item is never one)
    if (item === '' || (item[0] !== '"' && item[0] !== "'" && item.includes(':'))) outside();
    const { value, after } = scalar(item);
    if (after !== '') outside();
    return value;
  });
}

/**
 * A plain scalar as the yaml library's YAML 1.2 core schema resolves it (its tags' tests, in
 * its order): null, booleans, integers (octal, decimal, hex), floats; else the string.
 */
function plainScalar(text: string): unknown {
  if (/^(?:~|[Nn]ull|NULL)?$/.test(text)) return null;
  if (/^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/.test(text)) return text[0] === 't' || text[0] === 'T';
  if (/^0o[0-7]+$/.test(text)) return parseInt(text.slice(2), 8);
  if (/^[-+]?[0-9]+$/.test(text)) return parseInt(text, 10);
  if (/^0x[0-9a-fA-F]+$/.test(text)) return parseInt(text.slice(2), 16);
  if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(text)) {
    return text.slice(-3).toLowerCase() === 'nan' ? NaN : text[0] === '-' ? -Infinity : Infinity;
  }
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(text) || /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(text)) {
    return parseFloat(text);
  }
  return text;
}
