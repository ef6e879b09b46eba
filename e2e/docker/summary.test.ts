import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStack } from '../support/stack';
import { createWorkspace, type TempWorkspace } from '../support/workspace';

/**
 * What a run prints: each task's BuildKit output stays with its task, and the run ends with
 * one summary table of service × platform (also when Nx serves the tasks from its cache), which
 * GitHub Actions also gets as Markdown in $GITHUB_STEP_SUMMARY.
 */
const RUN_ID = `summary-${process.pid}-${Date.now().toString(36)}`;
const REGISTRY = `127.0.0.1:5000/${RUN_ID}`;
const BASE = '127.0.0.1:5000/nxcb/busybox:latest';

describe('the closing summary of a run', () => {
  let ws: TempWorkspace;
  let scratch: string;
  const output = (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`;

  beforeAll(async () => {
    const stack = await ensureStack();
    scratch = mkdtempSync(join(tmpdir(), 'nxcb-summary-'));
    ws = await createWorkspace({
      env: stack.env,
      files: {
        'compose.yaml': [
          'services:',
          '  alpha:',
          `    image: ${REGISTRY}/alpha:1`,
          '    build:',
          '      context: ./alpha',
          '      platforms: [linux/amd64, linux/arm64]',
          '  beta:',
          `    image: ${REGISTRY}/beta:1`,
          '    build:',
          '      context: ./beta',
          '      platforms: [linux/amd64]',
          '',
        ].join('\n'),
        'alpha/Dockerfile': `FROM ${BASE}\nCOPY alpha.txt /alpha.txt\nRUN --network=none echo alpha-step-marker && cat /alpha.txt\n`,
        'alpha/alpha.txt': 'alpha\n',
        'beta/Dockerfile': `FROM ${BASE}\nCOPY beta.txt /beta.txt\nRUN --network=none echo beta-step-marker && cat /beta.txt\n`,
        'beta/beta.txt': 'beta\n',
      },
    });
  });
  afterAll(() => {
    ws?.dispose();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('a build run ends with one row per service × platform, and each task keeps its own output', async () => {
    const r = await ws.nx(['run-many', '-t', 'docker-build', '--output-style=static']);
    const out = output(r);
    expect(out).toContain('3 image(s): 3 built');
    expect(out).toMatch(/alpha\s+linux\/amd64\s+[0-9a-f]{12}\s+-\s+built\s+[\d.]+ s/);
    expect(out).toMatch(/alpha\s+linux\/arm64\s+[0-9a-f]{12}\s+-\s+built/);
    expect(out).toMatch(/beta\s+linux\/amd64\s+[0-9a-f]{12}\s+-\s+built/);
    // Static output prints a task's output under its own header: alpha's build never shows under beta's.
    const blocks = out.split(/^> nx run /m).slice(1);
    const alpha = blocks.find((b) => b.startsWith('alpha:docker-build'));
    const beta = blocks.find((b) => b.startsWith('beta:docker-build'));
    expect(alpha, out).toContain('alpha-step-marker');
    expect(beta, out).toContain('beta-step-marker');
    expect(alpha).not.toContain('beta-step-marker');
    expect(beta).not.toContain('alpha-step-marker');
  });

  it('a run served from Nx cache still prints the table, marked cached', async () => {
    const r = await ws.nx(['run-many', '-t', 'docker-build', '--output-style=static']);
    const out = output(r);
    expect(out).toMatch(/existing outputs match the cache|local cache|\[local cache\]/i);
    expect(out).toContain('3 image(s): 3 cached');
    expect(out).toMatch(/alpha\s+linux\/arm64\s+[0-9a-f]{12}\s+-\s+cached\s+-/);
  });

  it('push + verify: sizes from the registry, the verify column, and the GitHub step summary', async () => {
    const stepSummary = join(scratch, 'step-summary.md');
    const r = await ws.nx(['run-many', '-t', 'docker-verify', '--output-style=static'], { env: { GITHUB_STEP_SUMMARY: stepSummary } });
    const out = output(r);
    expect(out).toContain('3 image(s): 3 pushed');
    for (const [service, platform] of [
      ['alpha', 'linux/amd64'],
      ['alpha', 'linux/arm64'],
      ['beta', 'linux/amd64'],
    ]) {
      expect(out).toMatch(
        new RegExp(`${service}\\s+${platform.replace('/', '\\/')}\\s+[0-9a-f]{12}\\s+[\\d.]+ (B|KiB|MiB)\\s+pushed\\s+[\\d.]+ s\\s+ok`),
      );
    }
    const md = readFileSync(stepSummary, 'utf-8');
    expect(md).toContain('### nx-compose-buildx');
    expect(md).toContain('| service | platform | digest | size | image | time | verify |');
    expect(md).toMatch(/\| alpha \| linux\/arm64 \| `[0-9a-f]{12}` \| [\d.]+ (B|KiB|MiB) \| pushed \| [\d.]+ s \| ok \|/);
  });
});
