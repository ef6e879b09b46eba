import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { repositoryOf } from '../../../buildx/image-ref';
import { isInsideWorkspace } from '../../containment';
import type { ImageMetadata } from '../shared/build-record';
import { imagetoolsInspectArgv, runArgv } from '../../../buildx/argv';
import { comparePlatforms } from '../../../buildx/manifest';
import { acceptedUnameMachines, expectedUnameMachine, normalizePlatforms } from '../../../buildx/platform';
import { commandTimeouts, displayCommand, failureText } from '../../../run/exec';
import { defaultDeps, withTimeouts, type ExecutorDeps } from '../shared/deps';
import { registryImage } from '../shared/registry';
import type { DockerVerifyExecutorSchema } from './schema';

const DEFAULT_COMMAND = ['uname', '-m'];

/**
 * What verify checks: the manifest list this run's docker-push recorded (`<repo>@<digest>`, from its
 * metadata file), so a concurrent push of the same tag cannot make verify pass or fail for another
 * image. Without a push record (verify run alone, or a push that recorded no digest) the tag as the
 * registry serves it now, said in the log.
 */
export function imageToVerify(image: string, root: string, pushMetadataFile: string | undefined): { ref: string; note?: string } {
  if (!pushMetadataFile) return { ref: image };
  const path = join(root, pushMetadataFile);
  if (!isInsideWorkspace(root, path)) throw new Error(`pushMetadataFile ${pushMetadataFile} is outside the workspace`);
  if (!existsSync(path))
    return { ref: image, note: `no push record at ${pushMetadataFile}; checking ${image} as the registry serves it now` };
  let record: Partial<ImageMetadata>;
  try {
    record = JSON.parse(readFileSync(path, 'utf-8')) as Partial<ImageMetadata>;
  } catch (e) {
    throw new Error(`cannot read the push record ${pushMetadataFile}: ${(e as Error).message}`, { cause: e });
  }
  const digest = record.pushed ? record.manifestDigest : undefined;
  if (!digest || !/^sha256:[0-9a-f]{64}$/.test(digest)) {
    return {
      ref: image,
      note: `the push record ${pushMetadataFile} has no pushed digest; checking ${image} as the registry serves it now`,
    };
  }
  return { ref: `${repositoryOf(image)}@${digest}`, note: `checking ${image} by the digest docker-push recorded` };
}

/**
 * docker-verify: the registry's manifest list holds every declared platform (and no undeclared one),
 * and the image runs under emulation on each: `docker run --rm --network none --platform <p> <image> <cmd>`.
 * With the default `uname -m` the output must be the platform's machine name; a custom command passes on exit 0.
 */
export async function dockerVerify(
  options: DockerVerifyExecutorSchema,
  context: ExecutorContext,
  given: ExecutorDeps = defaultDeps(),
): Promise<{ success: boolean }> {
  const service = options.service;
  const tag = `[${service}]`;
  const deps = given;
  try {
    const timeouts = commandTimeouts(given.env);
    const bounded = withTimeouts(given, timeouts);
    const tagged = options.image ?? options.tags?.[0];
    if (!tagged) throw new Error('no image to verify: set "image" or "tags".');
    const { ref: image, note } = imageToVerify(tagged, context.root, options.pushMetadataFile);
    let platforms = normalizePlatforms(options.platforms ?? []);
    const cmd = options.verifyCommand?.length ? options.verifyCommand : DEFAULT_COMMAND;
    const custom = Boolean(options.verifyCommand?.length);
    const builder = typeof options.builder === 'string' ? options.builder : options.builder?.name;
    const runOpts = { network: options.network ?? 'none', ...(options.pull ? { pull: options.pull } : {}) };
    const checkManifest = options.checkManifest ?? true;
    const root = context.root;

    deps.log(
      `${tag} docker-verify ${image}: ${platforms.join(', ') || 'platforms from the registry'} (${cmd.join(' ')})${options.dryRun ? ' (dry run)' : ''}`,
    );
    if (note) deps.log(`${tag} ${note}`);

    if (options.dryRun) {
      if (checkManifest) deps.log(`[dry-run] ${displayCommand(imagetoolsInspectArgv(image, builder ? { builder } : {}))}`);
      for (const p of platforms) deps.log(`[dry-run] ${displayCommand(runArgv(p, image, cmd, runOpts))}`);
      return { success: true };
    }

    const failures: string[] = [];
    if (checkManifest) {
      const img = await registryImage(image, root, bounded, builder);
      const found = img.platforms.map((p) => p.platform);
      if (platforms.length === 0) platforms = found;
      const { missing, extra } = comparePlatforms(platforms, found);
      if (missing.length)
        failures.push(`manifest of ${image} lacks declared platform(s): ${missing.join(', ')} (it has: ${found.join(', ') || 'none'})`);
      if (extra.length && !options.allowExtraPlatforms) {
        failures.push(`manifest of ${image} has undeclared platform(s): ${extra.join(', ')} (declared: ${platforms.join(', ')})`);
      }
      platforms = platforms.filter((p) => !missing.includes(p));
    }
    if (platforms.length === 0) failures.push('no platform to run: declare platforms or enable checkManifest');

    for (const p of platforms) {
      const argv = runArgv(p, image, cmd, runOpts);
      const r = await deps.run(argv, { cwd: root, timeoutMs: timeouts.long }); // the service's own test may be slow under QEMU
      const output = r.stdout.trim();
      if (r.exitCode !== 0) {
        failures.push(
          `service ${service}, platform ${p}: \`${displayCommand(argv)}\` exited ${r.exitCode}` +
            `${failureText(r) ? `: ${failureText(r).split('\n').slice(-3).join(' | ')}` : ''}`,
        );
        continue;
      }
      if (!custom) {
        const accepted = acceptedUnameMachines(p);
        const actual = output.split(/\r?\n/).pop()?.trim() ?? '';
        if (!accepted.includes(actual)) {
          failures.push(`service ${service}, platform ${p}: expected uname -m "${expectedUnameMachine(p)}", got "${actual}"`);
          continue;
        }
        deps.log(`${tag} ${p}: ok (${actual})`);
      } else {
        deps.log(`${tag} ${p}: ok (exit 0)`);
      }
    }

    if (failures.length) {
      deps.log(`${tag} docker-verify failed:\n  ${failures.join('\n  ')}`);
      return { success: false };
    }
    deps.log(`${tag} verified ${platforms.length} platform(s) of ${image}`);
    return { success: true };
  } catch (e) {
    deps.log(`${tag} docker-verify: ${(e as Error).message}`);
    return { success: false };
  }
}

export default async function dockerVerifyExecutor(
  options: DockerVerifyExecutorSchema,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  return dockerVerify(options, context);
}
