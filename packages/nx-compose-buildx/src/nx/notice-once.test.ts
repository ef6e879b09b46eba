import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { claimNotice } from './notice-once';

describe('claimNotice', () => {
  const root = mkdtempSync(join(tmpdir(), 'nxcb-notice-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const env = {};

  it('is claimed once per text and state, and afresh when the state changes', () => {
    expect(claimNotice(root, 'stale: a', 'lock v1', env)).toBe(true);
    expect(claimNotice(root, 'stale: a', 'lock v1', env)).toBe(false);
    expect(claimNotice(root, 'stale: a', 'lock v1', env)).toBe(false);
    expect(claimNotice(root, 'stale: a, b', 'lock v1', env)).toBe(true);
    expect(claimNotice(root, 'stale: a', 'lock v2', env)).toBe(true);
    // Going back to an earlier state is a new state again: the old claims were cleared.
    expect(claimNotice(root, 'stale: a', 'lock v1', env)).toBe(true);
    expect(claimNotice(root, 'stale: a', 'lock v1', env)).toBe(false);
  });

  it('claims nothing under the Nx daemon, whose output nobody sees', () => {
    const daemon = { NX_DAEMON_PROCESS: 'true' };
    expect(claimNotice(root, 'under daemon', 's', daemon)).toBe(false);
    expect(claimNotice(root, 'under daemon', 's', env)).toBe(true);
  });
});
