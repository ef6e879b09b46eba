import { describe, expect, it } from 'vitest';
import { interpolate, InterpolationError } from './interpolate';

const env: Record<string, string> = { SET: 'value', EMPTY: '', A: 'a', B: 'b', TAG: '1.0' };
const lookup = (name: string) => (Object.prototype.hasOwnProperty.call(env, name) ? env[name] : undefined);

describe('interpolate', () => {
  it.each([
    ['no variables', 'plain', 'plain', []],
    ['$VAR', 'x-$SET-y', 'x-value-y', ['SET']],
    ['${VAR}', '${SET}', 'value', ['SET']],
    ['name stops at non-name char', '$SET.x', 'value.x', ['SET']],
    ['unset → empty', '[${NOPE}]', '[]', ['NOPE']],
    [':- on unset', '${NOPE:-d}', 'd', ['NOPE']],
    [':- on empty', '${EMPTY:-d}', 'd', ['EMPTY']],
    [':- on set', '${SET:-d}', 'value', ['SET']],
    ['- on empty keeps empty', '[${EMPTY-d}]', '[]', ['EMPTY']],
    ['- on unset', '${NOPE-d}', 'd', ['NOPE']],
    [':+ on set', '${SET:+alt}', 'alt', ['SET']],
    [':+ on empty', '[${EMPTY:+alt}]', '[]', ['EMPTY']],
    ['+ on empty', '${EMPTY+alt}', 'alt', ['EMPTY']],
    ['+ on unset', '[${NOPE+alt}]', '[]', ['NOPE']],
    ['?: set passes', '${SET:?msg}', 'value', ['SET']],
    ['? on empty passes', '[${EMPTY?msg}]', '[]', ['EMPTY']],
    ['nested defaults, all names recorded', '${NOPE:-${ALSO:-${A}}}', 'a', ['ALSO', 'A', 'NOPE']],
    ['defaults are evaluated eagerly', '${SET:-${B}}', 'value', ['B', 'SET']],
    ['$$ escapes', '$$SET and $${SET}', '$SET and ${SET}', []],
    ['lone $ and $digit stay', 'cost 5$ and $1', 'cost 5$ and $1', []],
    ['default with braces', '${NOPE:-{x}}', '{x}', ['NOPE']],
    ['text after closing brace', '${TAG}}', '1.0}', ['TAG']],
    ['default containing :', '${NOPE:-a:b}', 'a:b', ['NOPE']],
    ['default containing -', '${NOPE-a-b}', 'a-b', ['NOPE']],
    ['several in one value', 'r/${A}:${TAG}-$B', 'r/a:1.0-b', ['A', 'TAG', 'B']],
    ['shell metacharacters are data', '$(rm -rf /); `x` ${A}', '$(rm -rf /); `x` a', ['A']],
  ])('%s', (_name, template, value, variables) => {
    const r = interpolate(template, lookup);
    expect(r.value).toBe(value);
    expect([...r.variables].sort()).toEqual([...variables].sort());
  });

  it.each([
    ['${}', 'invalid', /invalid interpolation format/],
    ['${X Y}', 'invalid', /invalid interpolation format/],
    ['${X', 'invalid', /invalid interpolation format/],
    ['${1X}', 'invalid', /invalid interpolation format/],
    ['${X:x}', 'invalid', /invalid interpolation format/],
    ['${NOPE:?need it}', 'required', /^required variable NOPE is missing a value: need it$/],
    ['${EMPTY:?empty}', 'required', /^required variable EMPTY is missing a value: empty$/],
    ['${NOPE?}', 'required', /^required variable NOPE is missing a value$/],
    ['${SET-${NOPE:?inner}}', 'required', /variable NOPE is missing a value: inner/],
  ])('error %s', (template, kind, message) => {
    let error: unknown;
    try {
      interpolate(template, lookup);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InterpolationError);
    expect((error as InterpolationError).kind).toBe(kind);
    expect((error as Error).message).toMatch(message);
  });
});

describe('interpolate with lenientRequired', () => {
  it.each([
    ['${NOPE:?msg}', ''],
    ['[${EMPTY:?msg}]', '[]'],
    ['${SET:?msg}', 'value'],
    ['${NOPE?}x', 'x'],
  ])('%s → %s', (template, value) => {
    expect(interpolate(template, lookup, { lenientRequired: true })).toMatchObject({ value });
  });
  it('still rejects invalid templates', () =>
    expect(() => interpolate('${}', lookup, { lenientRequired: true })).toThrow(InterpolationError));
});
