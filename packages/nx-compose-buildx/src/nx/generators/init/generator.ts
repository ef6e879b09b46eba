import { formatFiles, readNxJson, updateNxJson, type NxJsonConfiguration, type PluginConfiguration, type Tree } from '@nx/devkit';
import type { ComposeBuildxPluginOptions } from '../../plugin-options';
import type { InitGeneratorSchema } from './schema';

export const PLUGIN_NAME = 'nx-compose-buildx';
export const SYNC_GENERATOR = 'nx-compose-buildx:sync';

/** The options init writes when the workspace has none: the main ones, spelled out so users see what to change. */
export function defaultPluginOptions(options: InitGeneratorSchema = {}): ComposeBuildxPluginOptions {
  return {
    buildTargetName: options.buildTargetName ?? 'docker-build',
    pushTargetName: options.pushTargetName ?? 'docker-push',
    verifyTargetName: options.verifyTargetName ?? 'docker-verify',
    ...(options.builder ? { builder: options.builder } : {}),
    provenance: false,
  };
}

function isOurs(p: PluginConfiguration): boolean {
  return (typeof p === 'string' ? p : p.plugin) === PLUGIN_NAME;
}

/**
 * Registers the plugin in nx.json as `{ plugin, options }`, converting a string registration to the
 * object form. Defaults fill only missing options; options given on the command line replace existing
 * ones. Every registration of the plugin (e.g. several with include/exclude) is updated alike.
 * Registers the sync generator that keeps nx-compose-buildx.lock.json fresh, and sets
 * `sync.applyChanges: true` unless the workspace already says.
 */
export function registerPlugin(nxJson: NxJsonConfiguration, options: InitGeneratorSchema = {}): NxJsonConfiguration {
  const defaults = defaultPluginOptions(options);
  const explicit: Record<string, unknown> = {};
  for (const key of ['builder', 'buildTargetName', 'pushTargetName', 'verifyTargetName'] as const) {
    if (options[key] !== undefined) explicit[key] = options[key];
  }
  const plugins = [...(nxJson.plugins ?? [])];
  let found = false;
  for (let i = 0; i < plugins.length; i++) {
    const p = plugins[i]!;
    if (!isOurs(p)) continue;
    found = true;
    const obj = typeof p === 'string' ? { plugin: PLUGIN_NAME } : p;
    const current = (obj.options ?? {}) as Record<string, unknown>;
    // Existing options keep their order and values; missing defaults are appended; explicit options win.
    const merged: Record<string, unknown> = { ...current };
    for (const [k, v] of Object.entries(defaults)) if (!(k in merged)) merged[k] = v;
    plugins[i] = { ...obj, options: Object.assign(merged, explicit) };
  }
  if (!found) plugins.push({ plugin: PLUGIN_NAME, options: { ...defaults } });

  const globalGenerators = [...(nxJson.sync?.globalGenerators ?? [])];
  if (!globalGenerators.includes(SYNC_GENERATOR)) globalGenerators.push(SYNC_GENERATOR);
  // Local task runs rewrite a stale lock before they start (Nx skips this in CI, where
  // `nx sync:check` fails instead); a workspace that chose `false` keeps it.
  const applyChanges = nxJson.sync?.applyChanges ?? true;
  return { ...nxJson, plugins, sync: { ...nxJson.sync, globalGenerators, applyChanges } };
}

export async function initGenerator(tree: Tree, options: InitGeneratorSchema = {}): Promise<void> {
  const nxJson = readNxJson(tree) ?? {};
  updateNxJson(tree, registerPlugin(nxJson, options));
  if (!options.skipFormat) await formatFiles(tree);
}

export default initGenerator;
