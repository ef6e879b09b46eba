/**
 * `.env` parsing with compose-go/dotenv rules: `export ` prefix, `KEY=value` (or `KEY: value`), double quotes
 * with escapes and interpolation, single quotes literal, unquoted values cut at ` #` and interpolated, `KEY`
 * alone inherits from the lookup. Interpolation sees the lookup (process env) first, then earlier keys.
 */
import { interpolate, InterpolationError, type InterpolateOptions, type VariableLookup } from './interpolate';
import { ComposeError } from './types';

export interface DotenvResult {
  values: Record<string, string>;
  /** Key → 1-based line where it was (last) set. */
  lines: Record<string, number>;
}

const SPACE = new Set(['\t', '\v', '\f', '\r', ' ', '\u0085', '\u00a0']);
const isKeyChar = (ch: string) => /[\p{L}\p{N}_.\-[\]]/u.test(ch);
const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', c: 'c', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '"': '"', '\\': '\\' };

function expandEscapes(s: string): string {
  return s.replace(/\\(?:[abcfnrtv$"\\]|0[0-7]{0,3})/g, (m) => {
    const c = m.slice(1);
    if (c === '$') return '$$';
    if (c.startsWith('0')) return c.length > 1 ? String.fromCharCode(parseInt(c.slice(1), 8)) : '\0';
    return ESCAPES[c] ?? m;
  });
}

export function parseDotenv(
  text: string,
  file: string,
  lookup: VariableLookup = () => undefined,
  options: InterpolateOptions = {},
): DotenvResult {
  const values: Record<string, string> = {};
  const lines: Record<string, number> = {};
  let i = 0;
  let line = 1;
  const fail = (message: string, at = line): never => {
    throw new ComposeError(message, { file, line: at });
  };
  // Errors name the key and the line, never the value: a .env file holds credentials.
  const expand = (value: string, at: number, key: string) => {
    try {
      return interpolate(
        value,
        (name) => lookup(name) ?? (Object.prototype.hasOwnProperty.call(values, name) ? values[name] : undefined),
        options,
      ).value;
    } catch (e) {
      if (e instanceof InterpolationError && e.kind === 'invalid')
        return fail(`invalid interpolation format in the value of ${key} (a literal $ must be written $$)`, at);
      if (e instanceof InterpolationError) return fail(e.message, at);
      throw e;
    }
  };
  const skipSpace = () => {
    while (i < text.length && SPACE.has(text[i])) i++;
  };

  while (i < text.length) {
    // statement start: skip whitespace (counting lines) and comment lines
    const ch = text[i];
    if (ch === '\n') {
      line++;
      i++;
      continue;
    }
    if (SPACE.has(ch)) {
      i++;
      continue;
    }
    if (ch === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    const startLine = line;
    if (/^export[ \t]+/.test(text.slice(i, i + 8))) {
      i += 6;
      skipSpace();
    }
    // key
    const keyStart = i;
    let terminator = '';
    while (i < text.length) {
      const c = text[i];
      if (c === '=' || c === ':' || c === '\n') {
        terminator = c;
        break;
      }
      if (!SPACE.has(c) && !isKeyChar(c)) {
        fail(`unexpected character "${c}" in variable name "${text.slice(keyStart, i + 1)}"`);
      }
      i++;
    }
    const key = text.slice(keyStart, i).replace(/[\s]+$/u, '');
    if (key === '') fail('missing variable name');
    if (/\s/u.test(key)) fail(`variable name "${key}" cannot contain a space`);
    if (terminator === '' || terminator === '\n') {
      // `KEY` alone: inherit from the environment when it is set there
      const inherited = lookup(key);
      if (inherited !== undefined) {
        values[key] = inherited;
        lines[key] = startLine;
      }
      continue;
    }
    i++; // past = or :
    skipSpace();
    const quote = text[i];
    let value: string;
    if (quote === '"' || quote === "'") {
      let chars = '';
      let escaped = false;
      let closed = false;
      for (i = i + 1; i < text.length; i++) {
        const c = text[i];
        if (c === '\n') line++;
        if (escaped) {
          escaped = false;
          if (c !== quote) chars += '\\';
          chars += c;
          continue;
        }
        if (c === '\\') escaped = true;
        else if (c === quote) {
          closed = true;
          i++;
          break;
        } else chars += c;
      }
      if (!closed) fail(`unterminated quoted value for ${key}`, startLine);
      value = quote === '"' ? expand(expandEscapes(chars), startLine, key) : chars;
    } else {
      let end = text.indexOf('\n', i);
      if (end < 0) end = text.length;
      let raw = text.slice(i, end);
      i = end;
      const comment = raw.indexOf(' #');
      if (comment >= 0) raw = raw.slice(0, comment);
      value = expand(raw.replace(/\s+$/u, ''), startLine, key);
    }
    values[key] = value;
    lines[key] = startLine;
  }
  return { values, lines };
}
