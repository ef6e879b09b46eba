import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument, isMap } from 'yaml';
import { BASE_IMAGE, ensureStack } from '../support/stack';
import { indexPlatforms } from '../support/registry';
import { createWorkspace, run, type TempWorkspace } from '../support/workspace';
import { ensureToolchainImages, type ToolchainImages } from './toolchain';

/**
 * The rust, python and node scaffolds, each generated into a fresh workspace and built for real for
 * linux/amd64 and linux/arm64 with base images made from Debian's packages (scripts/toolchain-image.sh),
 * then docker-verify (which pushes first) runs the image on each platform, and the app itself is run
 * under emulation to say what it was built for and where it runs.
 * - rust cross-compiles: its toolchain image exists for linux/amd64 only, so the arm64 build can only
 *   succeed if the build stage runs on the build platform, and the arm64 binary reporting
 *   `linux/aarch64` shows what it was compiled for;
 * - python installs at the TARGET platform: its build and runtime images are 2-platform manifest
 *   lists, and the arm64 venv step runs under QEMU;
 * - node installs its dependencies at the TARGET platform too (Debian's nodejs and npm in the build
 *   image, nodejs alone in the runtime image), and the app reports Node's own process.arch.
 */
const RUN_ID = `${process.pid}-${Date.now().toString(36)}`;
const NS = `127.0.0.1:5000/e2e-scaffolds/${RUN_ID}`;
const PLATFORMS = ['linux/amd64', 'linux/arm64'];
const MACHINE: Record<string, string> = { 'linux/amd64': 'x86_64', 'linux/arm64': 'aarch64' };
/** Node's process.arch on each platform. */
const NODE_ARCH: Record<string, string> = { 'linux/amd64': 'x64', 'linux/arm64': 'arm64' };

interface Scaffold {
  language: 'rust' | 'python' | 'node';
  service: string;
  /** The compose x-nx-buildx.verify the generator writes, if any. */
  verify?: string[];
  /** What docker-verify prints for a platform. */
  verified: (platform: string) => string;
  /** What the app prints on a platform. */
  prints: (platform: string) => RegExp;
}

const SCAFFOLDS: Scaffold[] = [
  {
    language: 'rust',
    service: 'srust',
    verify: ['/app', '--self-test'],
    verified: (p) => `[srust] ${p}: ok (exit 0)`, // the binary's own check: compiled for the arch it runs on
    prints: (p) => new RegExp(`^srust linux/${MACHINE[p]} running on ${MACHINE[p]}$`, 'm'),
  },
  {
    language: 'python',
    service: 'spython',
    verified: (p) => `[spython] ${p}: ok (${MACHINE[p]})`, // the default check: uname -m on that platform
    prints: (p) => new RegExp(`^spython linux/${MACHINE[p]} \\(Python 3\\.\\d+\\.\\d+\\)$`, 'm'),
  },
  {
    language: 'node',
    service: 'snode',
    verified: (p) => `[snode] ${p}: ok (${MACHINE[p]})`, // the default check: uname -m on that platform
    prints: (p) => new RegExp(`^snode linux/${NODE_ARCH[p]} running on ${MACHINE[p]}$`, 'm'),
  },
];

describe.each(SCAFFOLDS)('the $language scaffold builds and runs for real on linux/amd64 and linux/arm64', (s) => {
  const image = `${NS}/${s.service}:latest`;
  let ws: TempWorkspace;
  let dockerEnv: NodeJS.ProcessEnv;
  let tc: ToolchainImages;
  const docker = (args: string[]) => run('docker', args, { cwd: ws.root, env: dockerEnv });
  const out = (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`;

  beforeAll(async () => {
    const stack = await ensureStack();
    dockerEnv = { ...process.env, ...stack.env };
    tc = await ensureToolchainImages(s.language, dockerEnv);
    console.log(
      `${s.language} images ${[tc.build, tc.runtime].filter(Boolean).join(', ')}: ${tc.cached ? 'cached' : 'made'} in ${tc.ms} ms`,
    );
    ws = await createWorkspace({ files: { 'compose.yaml': ['name: scaffolds', '', 'services: {}', ''].join('\n') }, env: stack.env });
  }, 60 * 60_000); // from nothing, a Debian bootstrap (for python, also one under emulation)

  afterAll(() => ws?.dispose());

  it('the Debian-made base images hold the platforms the scaffold needs', async () => {
    if (s.language === 'rust') {
      const r = await docker(['buildx', 'imagetools', 'inspect', '--format', '{{json .Image}}', tc.build]);
      expect(r.status, out(r)).toBe(0);
      // A single-platform image, for the build platform only: arm64 must come from cross-compiling.
      expect(JSON.parse(r.stdout)).toMatchObject({ os: 'linux', architecture: 'amd64' });
    } else {
      // python and node: 2-platform manifest lists, since they install at the target platform.
      expect(await indexPlatforms(tc.build), 'build image').toEqual(PLATFORMS);
      expect(await indexPlatforms(tc.runtime!), 'runtime image').toEqual(PLATFORMS);
    }
  });

  it('generates the service with the Debian-made images as build args', async () => {
    // rust: a static binary, so the busybox base stands in for distroless.
    const baseImage = s.language === 'rust' ? BASE_IMAGE : tc.runtime!;
    await ws.nx([
      'g',
      'nx-compose-buildx:service',
      s.service,
      `--language=${s.language}`,
      `--platforms=${PLATFORMS.join(',')}`,
      `--image=${image}`,
      `--buildImage=${tc.build}`,
      `--baseImage=${baseImage}`,
    ]);
    // The build machines have no bridge network: build without one, as examples/ does.
    const doc = parseDocument(ws.read('compose.yaml'));
    const build = doc.getIn(['services', s.service, 'build'], true);
    if (!isMap(build)) throw new Error(`no build mapping for ${s.service}`);
    expect(build.toJSON()).toMatchObject({ platforms: PLATFORMS });
    build.set('network', 'none');
    expect(
      (doc.toJS() as { services: Record<string, { 'x-nx-buildx'?: { verify?: unknown } }> }).services[s.service]!['x-nx-buildx']?.verify,
    ).toEqual(s.verify);
    ws.write('compose.yaml', doc.toString());
    await ws.commit(`generated ${s.service}`);
  });

  it('docker-build builds linux/amd64 and linux/arm64', async () => {
    const r = await ws.nx(['run', `${s.service}:docker-build`, '--output-style=static']);
    expect(out(r)).toMatch(/Successfully ran target docker-build/);
    const metadata = JSON.parse(ws.read(`dist/docker/${s.service}/metadata.json`));
    expect(Object.keys(metadata.platforms).sort()).toEqual(PLATFORMS);
  });

  it('docker-verify (after docker-push) passes on each platform, and the app says what it is on each', async () => {
    const r = await ws.nx(['run', `${s.service}:docker-verify`, '--output-style=static']);
    const text = out(r);
    for (const p of PLATFORMS) expect(text).toContain(s.verified(p));
    expect(await indexPlatforms(image)).toEqual(PLATFORMS);
    // Independently of the plugin: the pushed image, on each platform, as its unprivileged user.
    for (const p of PLATFORMS) {
      const ran = await docker(['run', '--rm', '--network', 'none', '--pull', 'always', '--platform', p, image]);
      expect(ran.status, `${p}: ${out(ran)}`).toBe(0);
      expect(ran.stdout, p).toMatch(s.prints(p));
    }
  });
});
