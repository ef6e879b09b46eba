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
