import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { childPathForWrite, isInsideWorkspace, resolvedPath, workspacePathForWrite } from '../../containment';
import { deepMerge, parseConfig, renderConfig } from './config';
import type { DockerConfigExecutorSchema } from './schema';

/**
 * docker-config: writes `<outputPath>/<name>`, the base config deep-merged with the platform's overlay.
 * Everything it reads, writes or deletes stays inside the workspace, judged on the resolved path
 * (a symlinked folder pointing out counts as out), and it deletes only inside its own output folder.
 */
export async function dockerConfig(
  options: DockerConfigExecutorSchema,
  context: ExecutorContext,
  log: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<{ success: boolean }> {
  try {
    const read = (file: string, what: string) => {
      if (!isInsideWorkspace(context.root, file)) throw new Error(`${what} ${file} lies outside the workspace`);
      return parseConfig(readFileSync(join(context.root, file), 'utf-8'), file);
    };
    const merged = deepMerge(read(options.base, 'base config'), options.overlay ? read(options.overlay, 'overlay') : undefined);
    const dir = workspacePathForWrite(context.root, options.outputPath, 'outputPath');
    for (const input of [options.base, options.overlay]) {
      if (input && resolvedPath(join(context.root, input)).startsWith(`${dir}/`)) {
        throw new Error(`outputPath ${options.outputPath} holds the input ${input}; it is emptied on each run, so choose another folder`);
      }
    }
    if (!/^[^/\\]+$/.test(options.name) || options.name === '.' || options.name === '..') {
      throw new Error(`name ${JSON.stringify(options.name)} must be a plain file name`);
    }
    mkdirSync(dir, { recursive: true });
    // Replace what an earlier run left. Entries are plain names inside the folder, and rm removes
    // a symlink itself, never what it points to.
    for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true });
    writeFileSync(childPathForWrite(dir, options.name, 'name'), renderConfig(merged, options.name));
    log(`docker-config: ${[options.base, options.overlay].filter(Boolean).join(' + ')} → ${options.outputPath}/${options.name}`);
    return { success: true };
  } catch (e) {
    log(`docker-config: ${(e as Error).message}`);
    return { success: false };
  }
}

export default async function dockerConfigExecutor(
  options: DockerConfigExecutorSchema,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  return dockerConfig(options, context);
}
