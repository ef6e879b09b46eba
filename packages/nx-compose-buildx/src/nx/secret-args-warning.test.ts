import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CreateNodesContext } from '@nx/devkit';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createComposeNodes } from './create-nodes';
import { graphCacheWritesSettled } from './graph-cache';

const SECRET = 'hunter2-from-dotenv-91ac';

describe('graph time: secret-like build args', () => {
  const root = mkdtempSync(join(tmpdir(), 'nxcb-secret-warn-'));
  afterAll(async () => {
    await graphCacheWritesSettled(); // createNodes does not wait for its cache write
    rmSync(root, { recursive: true, force: true });
  });

  it('warns naming the service and build.secrets, never the value; the project still loads', async () => {
    const files: Record<string, string> = {
      'compose.yaml': [
        'services:',
        '  api:',
        '    build:',
        '      context: ./api',
        '      args: { NPM_TOKEN: "${NPM_TOKEN}", PUBLIC_KEY: abc, NODE_VERSION: "20" }',
        '  web:',
        '    build: ./web',
        '',
      ].join('\n'),
      '.env': `NPM_TOKEN=${SECRET}\n`,
      'api/Dockerfile': 'FROM scratch\n',
      'web/Dockerfile': 'FROM scratch\n',
    };
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), content);
    }
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined); // the plugin's graph-time warnings
    try {
      const context = { workspaceRoot: root, nxJsonConfiguration: {}, configFiles: ['compose.yaml'] } as unknown as CreateNodesContext;
      const results = await createComposeNodes(['compose.yaml'], {}, context);
      const names = results.flatMap(([, r]) => Object.values(r.projects ?? {}).map((p) => p.name));
      expect(names.sort()).toEqual(['api', 'web']);
      const lines = warn.mock.calls.map((c) => String(c[0]));
      const secretLines = lines.filter((l) => l.includes('looks like a secret'));
      expect(secretLines).toHaveLength(1);
      expect(secretLines[0]).toMatch(/service "api" \(compose\.yaml\): build arg NPM_TOKEN looks like a secret/);
      expect(secretLines[0]).toContain('build.secrets');
      expect(lines.join('\n')).not.toContain(SECRET);
      expect(lines.join('\n')).not.toContain('PUBLIC_KEY');
    } finally {
      warn.mockRestore();
    }
  });
});
