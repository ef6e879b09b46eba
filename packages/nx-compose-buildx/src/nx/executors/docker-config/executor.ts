import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { deepMerge, parseConfig, renderConfig } from './config';
import type { DockerConfigExecutorSchema } from './schema';

/** docker-config: writes `<outputPath>/<name>`, the base config deep-merged with the platform's overlay. */
export async function dockerConfig(
  options: DockerConfigExecutorSchema,
  context: ExecutorContext,
  log: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<{ success: boolean }> {
  try {
    const read = (file: string) => parseConfig(readFileSync(join(context.root, file), 'utf-8'), file);
    const merged = deepMerge(read(options.base), options.overlay ? read(options.overlay) : undefined);
    const dir = join(context.root, options.outputPath);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, options.name), renderConfig(merged, options.name));
    log(`docker-config: ${[options.base, options.overlay].filter(Boolean).join(' + ')} → ${options.outputPath}/${options.name}`);
    return { success: true };
  } catch (e) {
    log(`docker-config: ${(e as Error).message}`);
    return { success: false };
  }
}

export default async function dockerConfigExecutor(options: DockerConfigExecutorSchema, context: ExecutorContext): Promise<{ success: boolean }> {
  return dockerConfig(options, context);
}
