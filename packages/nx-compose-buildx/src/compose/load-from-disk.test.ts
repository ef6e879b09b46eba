import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadComposeProjectFromDisk, readFileIfExists } from './load-from-disk';

const fixture = (name: string) => path.join(__dirname, '__fixtures__', 'oracle', name);

describe('loadComposeProjectFromDisk', () => {
  it('reads the project .env and lists it in files', () => {
    const dir = fixture('profiles-args');
    const p = loadComposeProjectFromDisk({ projectDir: dir, files: [path.join(dir, 'compose.yaml')] }, { HOME: '/h', FROM_ENV: 'p' });
    expect(p.files).toEqual([path.join(dir, 'compose.yaml'), path.join(dir, '.env')]);
    expect(p.services.hidden.build?.args).toMatchObject({ FROM_DOTENV: 'dotenv-value', FROM_ENV: 'p' });
  });

  it('gives the environment-free definition of a service that uses a process variable, from the same call', () => {
    const dir = fixture('profiles-args');
    const p = loadComposeProjectFromDisk({ projectDir: dir, files: [path.join(dir, 'compose.yaml')] }, { HOME: '/h', FROM_ENV: 'p' });
    expect(p.services.hidden.definition).toMatchObject({ build: { args: { FROM_ENV: 'p', FROM_DOTENV: 'dotenv-value' } } });
    expect(p.services.hidden.committedDefinition).toMatchObject({ build: { args: { FROM_DOTENV: 'dotenv-value' } } });
    expect((p.services.hidden.committedDefinition?.build as { args: object }).args).not.toHaveProperty('FROM_ENV');
    expect(p.services.mapped.committedDefinition).toBeUndefined();
    const unset = loadComposeProjectFromDisk({ projectDir: dir, files: [path.join(dir, 'compose.yaml')] }, { HOME: '/h' });
    expect(unset.services.hidden.committedDefinition).toBeUndefined();
  });

  it('works without a .env', () => {
    const dir = fixture('anchors');
    const p = loadComposeProjectFromDisk({ projectDir: dir, files: [path.join(dir, 'compose.yaml')] }, {});
    expect(p.files).toEqual([path.join(dir, 'compose.yaml')]);
  });

  it.each([
    [path.join(__dirname, 'no-such-file.yaml'), undefined],
    [path.join(__dirname, 'index.ts', 'below-a-file'), undefined],
  ])('readFileIfExists(%s) → %s', (p, expected) => expect(readFileIfExists(p)).toBe(expected));
});
