/**
 * Compose-spec interpolation of one string value (compose-go `template`):
 * `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`, `${VAR:?msg}`, `${VAR?msg}`, `${VAR:+alt}`, `${VAR+alt}`,
 * nesting in defaults, `$$` → `$`. Defaults and messages are evaluated eagerly, as compose-go does.
 */

/** Returns the variable's value, or undefined when it is not set. */
export type VariableLookup = (name: string) => string | undefined;

export interface InterpolationResult {
  value: string;
  /** Every variable name looked up, in first-lookup order. */
  variables: string[];
}

export class InterpolationError extends Error {
  constructor(
    readonly kind: 'invalid' | 'required',
    message: string,
    readonly variable?: string,
  ) {
    super(message);
    this.name = 'InterpolationError';
  }
}

const NAME_START = /[_a-zA-Z]/;
const NAME = /^[_a-zA-Z][_a-zA-Z0-9]*/;
const OPERATORS = [':-', ':?', ':+', '-', '?', '+'] as const;

/** compose-go's getFirstBraceClosingIndex: counts `{` and `}` from `${`, skipping the char after each `{`. */
function closingBrace(s: string, start: number): number {
  let open = 0;
  for (let i = start; i < s.length; i++) {
    if (s[i] === '}') {
      open--;
      if (open === 0) return i;
    }
    if (s[i] === '{') {
      open++;
      i++;
    }
  }
  return -1;
}

function invalid(template: string): InterpolationError {
  return new InterpolationError('invalid', `invalid interpolation format in "${template}" (a literal $ must be written $$)`);
}

export interface InterpolateOptions {
  /** `${X:?msg}` / `${X?msg}` on a missing value yields the (empty) value instead of an error. */
  lenientRequired?: boolean;
}

export function interpolate(template: string, lookup: VariableLookup, options: InterpolateOptions = {}): InterpolationResult {
  const seen = new Set<string>();
  const get = (name: string) => {
    seen.add(name);
    return lookup(name);
  };
  const value = substitute(template, get, template, options.lenientRequired === true);
  return { value, variables: [...seen] };
}

function substitute(s: string, get: VariableLookup, whole: string, lenient: boolean): string {
  if (!s.includes('$')) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = s[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next !== undefined && NAME_START.test(next)) {
      const name = NAME.exec(s.slice(i + 1))![0];
      out += get(name) ?? '';
      i += 1 + name.length;
    } else if (next === '{') {
      const end = closingBrace(s, i);
      if (end < 0) throw invalid(whole);
      out += braced(s.slice(i + 2, end), get, whole, lenient);
      i = end + 1;
    } else {
      out += '$';
      i++;
    }
  }
  return out;
}

function braced(inner: string, get: VariableLookup, whole: string, lenient: boolean): string {
  const m = NAME.exec(inner);
  if (!m) throw invalid(whole);
  const name = m[0];
  const rest = inner.slice(name.length);
  if (rest === '') return get(name) ?? '';
  const op = OPERATORS.find((o) => rest.startsWith(o));
  if (!op) throw invalid(whole);
  // compose-go interpolates the default / message before looking at the variable.
  const arg = substitute(rest.slice(op.length), get, whole, lenient);
  const value = get(name);
  switch (op) {
    case ':-':
      return value === undefined || value === '' ? arg : value;
    case '-':
      return value === undefined ? arg : value;
    case ':+':
      return value !== undefined && value !== '' ? arg : (value ?? '');
    case '+':
      return value !== undefined ? arg : '';
    case ':?':
    case '?':
      if (!lenient && (value === undefined || (op === ':?' && value === ''))) {
        throw new InterpolationError('required', `required variable ${name} is missing a value${arg ? `: ${arg}` : ''}`, name);
      }
      return value ?? '';
  }
}
