// Scenario 6 of npm run bench (issue 14): the Go service that `nx g nx-compose-buildx:service
// --language=go` writes, built for linux/arm64 and linux/arm/v7 two ways on the same engine:
//   cross   the generated Dockerfile as is: the Go stage runs on the build platform
//           (FROM --platform=$BUILDPLATFORM) and cross-compiles with GOOS/GOARCH/GOARM;
//   qemu    the same app and Dockerfile with the naive toolchain stage, FROM
//           --platform=$TARGETPLATFORM: the Go compiler itself runs under QEMU user emulation,
//           from a Go image made for the target platforms (toolchain-image.sh, TOOLCHAIN_ARCHES).
// Both with the same `docker buildx build` flags, a pruned builder before every build (the
// toolchain images stay pulled), repetitions alternating. Each result is run on both platforms
// (`/app --self-test`) so that a broken build cannot pass for a fast one. Prints the ratio.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { median, scenarioTable, sec } from './bench-stats.mjs';
import { BASE_IMAGE, IMAGE_PREFIX, REPO, generateMonorepo } from './bench-workspace.mjs';
import { REGISTRY } from './stack.mjs';

const PLATFORMS = ['linux/arm64', 'linux/arm/v7'];
const SERVICE = 'gosvc';
const CROSS_IMAGE = `${REGISTRY}/nxcb/golang:bookworm`;
/** The Debian Go toolchain for the target platforms (linux/arm64, linux/arm/v7). */
const TARGET_IMAGE = `${REGISTRY}/nxcb/golang-target:bookworm`;
const CROSS_FROM = 'FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build';
const QEMU_FROM = 'FROM --platform=$TARGETPLATFORM ${GO_IMAGE} AS build';
const LABEL = { cross: 'cross-compiled (generated)', qemu: 'compiled under QEMU' };

/** scripts/toolchain-image.sh go [ref], with `extraEnv`; resolves to the image it printed. */
function toolchainImage(env, extraEnv, ref) {
  return new Promise((resolve, reject) => {
    const args = [join(REPO, 'scripts/toolchain-image.sh'), 'go', ...(ref ? [ref] : [])];
    const child = spawn('bash', args, {
      env: { ...env, TOOLCHAIN_REPO: `${REGISTRY}/nxcb`, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => {
      err += d;
      process.stdout.write(`    ${d}`);
    });
    child.on('close', (code) => {
      const image = /^BUILD_IMAGE=(\S+)$/m.exec(out)?.[1];
      if (code === 0 && image) resolve(image);
      else reject(new Error(`scripts/toolchain-image.sh go ${ref ?? ''} exited ${code}:\n${err.slice(-2000)}`));
    });
  });
}

let done = false;

/**
 * ctx (from scripts/bench.mjs): { nodeModules, nx, must, alternate, initRepo, docker, realDocker,
 * ENV, ... }. Independent of N: runs at the first N only. Returns markdown lines.
 */
export async function runGoEmulationScenario(ctx) {
  if (done) return [];
  done = true;
  console.log('  6. Go service for linux/arm64 + linux/arm/v7: cross-compiled vs compiled under QEMU');
  console.log('    toolchain images (cached when the registry has them; made from Debian packages otherwise)');
  const crossImage = await toolchainImage(ctx.ENV, {}, CROSS_IMAGE);
  const targetImage = await toolchainImage(ctx.ENV, { TOOLCHAIN_ARCHES: 'arm64 armhf' }, TARGET_IMAGE);
  // The toolchain images stay in the engine's image store: a cold builder, not a cold network.
  ctx.docker(['pull', '-q', '--platform', 'linux/amd64', crossImage]);
  for (const p of PLATFORMS) ctx.docker(['pull', '-q', '--platform', p, targetImage]);

  const ws = generateMonorepo({ n: 0, nodeModules: ctx.nodeModules, label: 'go' });
  const md = [];
  try {
    writeFileSync(join(ws, 'compose.yaml'), 'name: gobench\nservices: {}\n');
    await ctx.initRepo(ws);
    const image = (kind) => `${IMAGE_PREFIX}-go/${SERVICE}-${kind}:latest`;
    await ctx.must(
      ctx.nx([
        'g',
        'nx-compose-buildx:service',
        SERVICE,
        '--language=go',
        `--platforms=${PLATFORMS.join(',')}`,
        `--image=${image('cross')}`,
        `--buildImage=${crossImage}`,
        `--baseImage=${BASE_IMAGE}`,
      ]),
      ws,
    );
    const build = parse(readFileSync(join(ws, 'compose.yaml'), 'utf-8')).services[SERVICE].build;
    const context = join(ws, build.context);
    const dockerfile = join(context, build.dockerfile ?? 'Dockerfile');
    const generated = readFileSync(dockerfile, 'utf-8');
    if (!generated.includes(CROSS_FROM)) throw new Error(`the generated ${dockerfile} has no line "${CROSS_FROM}": update this scenario`);
    // The naive variant: outside the context, so both builds send the same files.
    const qemuDockerfile = join(ws, 'qemu.Dockerfile');
    writeFileSync(qemuDockerfile, generated.replace(CROSS_FROM, QEMU_FROM));
    const args = { ...(build.args ?? {}) };
    const argv = (kind) => [
      ctx.realDocker,
      'buildx',
      'build',
      '--progress=plain',
      '--platform',
      PLATFORMS.join(','),
      '--network',
      'none',
      '--provenance=false',
      '--sbom=false',
      '-f',
      kind === 'cross' ? dockerfile : qemuDockerfile,
      ...Object.entries({ ...args, GO_IMAGE: kind === 'cross' ? crossImage : targetImage }).flatMap(([k, v]) => [
        '--build-arg',
        `${k}=${v}`,
      ]),
      '-t',
      image(kind),
      '--load',
      context,
    ];
    const loads = [];
    const tools = ['cross', 'qemu'].map((kind) => ({
      label: LABEL[kind],
      run: async () => {
        loads.push(loadavg()[0]);
        return ctx.must(argv(kind), ws);
      },
    }));
    const runs = await ctx.alternate(tools, () => ctx.docker(['buildx', 'prune', '-af']));

    // Both results work on both platforms, and whether the two binaries are the same bytes.
    const checks = [];
    for (const p of PLATFORMS) {
      const sums = {};
      for (const kind of ['cross', 'qemu']) {
        const run = (cmd) => ctx.docker(['run', '--rm', '--network', 'none', '--platform', p, image(kind), ...cmd]).trim();
        const said = run(['/app', '--self-test']);
        sums[kind] = run(['sha256sum', '/app']).split(/\s+/)[0];
        checks.push(`${p} ${kind}: \`${said}\``);
      }
      checks.push(
        `${p}: the two /app binaries are ${sums.cross === sums.qemu ? 'byte-identical' : 'different'} (sha256 ${sums.cross.slice(0, 12)}… / ${sums.qemu.slice(0, 12)}…)`,
      );
    }
    const ratio = median(runs[LABEL.qemu]) / median(runs[LABEL.cross]);
    md.push(
      ...scenarioTable(`6. Go service (${PLATFORMS.join(' + ')}): cross-compiled vs under QEMU (builder pruned before each build)`, runs, {
        ours: LABEL.cross,
        notes: [
          `Compiling under QEMU took ${ratio.toFixed(1)}× as long as cross-compiling (medians ${sec(median(runs[LABEL.qemu]))} / ${sec(median(runs[LABEL.cross]))}).`,
          `Toolchains: ${crossImage} (linux/amd64, the build platform) and ${targetImage} (${PLATFORMS.join(', ')}), Debian bookworm's golang-go, already pulled; the runtime stage is ${BASE_IMAGE}. Load average (1 min) at the start of each build: ${loads.map((l) => l.toFixed(1)).join(', ')} on ${cpus().length} CPUs.`,
          `Results checked by running them: ${checks.join('; ')}.`,
        ],
      }).lines,
    );
  } finally {
    if (!process.env.BENCH_KEEP) rmSync(ws, { recursive: true, force: true });
  }
  return md;
}
