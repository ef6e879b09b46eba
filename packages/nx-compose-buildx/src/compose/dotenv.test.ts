import { describe, expect, it } from 'vitest';
import { parseDotenv } from './dotenv';
import { ComposeError } from './types';

describe('parseDotenv', () => {
  it.each([
    ['KEY=value', { KEY: 'value' }],
    ['export KEY=value', { KEY: 'value' }],
    ['  KEY = spaced  ', { KEY: 'spaced' }],
    ['KEY=a # comment', { KEY: 'a' }],
    ['KEY=a#b', { KEY: 'a#b' }],
    ['# only a comment\n\nKEY=1\n', { KEY: '1' }],
    ['KEY=', { KEY: '' }],
    ['KEY: yaml-style', { KEY: 'yaml-style' }],
    ['KEY="a\\nb \\"q\\""', { KEY: 'a\nb "q"' }],
    ['KEY="v # not comment" # comment', { KEY: 'v # not comment' }],
    ["KEY='literal ${X} \\n'", { KEY: 'literal ${X} \\n' }],
    ['KEY="multi\nline"', { KEY: 'multi\nline' }],
    ['A=1\nB=${A}-x\nC=$A', { A: '1', B: '1-x', C: '1' }],
    ['A=1\nB="${A}"', { A: '1', B: '1' }],
    ["A=1\nB='${A}'", { A: '1', B: '${A}' }],
    ['B=${UNDEF:-dflt}', { B: 'dflt' }],
    ['B=\\$notvar', { B: '\\' }],
    ['B="\\$notvar"', { B: '$notvar' }],
    ['B=$$x', { B: '$x' }],
    ['INHERIT', {}],
    ['export  SPACED_EXPORT=1', { SPACED_EXPORT: '1' }],
    ['dotted.key-name=1', { 'dotted.key-name': '1' }],
    ['A=x\r\nB=y\r\n', { A: 'x', B: 'y' }],
  ])('%j', (text, values) => {
    expect(parseDotenv(text, '/p/.env').values).toEqual(values);
  });

  it('inherits a bare KEY from the lookup and expands with the lookup first', () => {
    const lookup = (n: string) => ({ INHERIT: 'from-process', A: 'process-a' })[n];
    expect(parseDotenv('INHERIT\nA=file-a\nB=${A}', '/p/.env', lookup).values).toEqual({
      INHERIT: 'from-process',
      A: 'file-a',
      B: 'process-a',
    });
  });

  it('returns the line of each key', () => {
    expect(parseDotenv('# c\n\nA=1\nB="x\ny"\nC=2', '/p/.env').lines).toEqual({ A: 3, B: 4, C: 6 });
  });

  it.each([
    ['A=1\nB="unterminated', 2, /unterminated quoted value/],
    ['A=1\n\nBAD KEY=1', 3, /cannot contain a space|unexpected character/],
    ['A$=1', 1, /unexpected character "\$"/],
    ['A=${}', 1, /invalid interpolation format/],
    ['A=${X:?need X}', 1, /required variable X is missing a value: need X/],
  ])('error %j at line %i', (text, line, message) => {
    let error: unknown;
    try {
      parseDotenv(text, '/p/.env');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ComposeError);
    expect(error).toMatchObject({ file: '/p/.env', line });
    expect((error as Error).message).toMatch(message);
  });

  it.each([
    ['a bad character in the name', 'API$KEY=hunter2-s3cr3t', /unexpected character "\$" in variable name "API\$"/],
    ['a malformed interpolation in the value', 'TOKEN=hunter2-s3cr3t${', /invalid interpolation format in the value of TOKEN/],
    ['the same in double quotes', 'TOKEN="hunter2-s3cr3t${"', /invalid interpolation format in the value of TOKEN/],
  ])('an error for %s names the key and line, never the value', (_, text, message) => {
    let error: unknown;
    try {
      parseDotenv(`A=1\n${text}`, '/p/.env');
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ file: '/p/.env', line: 2 });
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('hunter2');
  });
});
