// Builds the plugin in place: tsc into dist/, then copies the JSON schemas and
// generator templates that tsc does not emit, so `npm pack` ships a working plugin.
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(pkgDir, 'src');
const dist = join(pkgDir, 'dist');
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(pkgDir, 'tsconfig.json')], { stdio: 'inherit' });

function copyAssets(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name === 'files') cpSync(path, join(dist, relative(src, path)), { recursive: true });
      else if (name !== '__fixtures__') copyAssets(path);
    } else if (name.endsWith('.json')) {
      cpSync(path, join(dist, relative(src, path)));
    }
  }
}
copyAssets(src);

// The docker-build and docker-push schemas come from the build-field table (src/nx/executors/shared/schema.ts).
const { BUILD_EXECUTORS, buildExecutorSchema } = createRequire(import.meta.url)(join(dist, 'nx/executors/shared/schema.js'));
for (const name of BUILD_EXECUTORS) {
  writeFileSync(join(dist, 'nx/executors', name, 'schema.json'), `${JSON.stringify(buildExecutorSchema(name), null, 2)}\n`);
}

// The compose-spec validator, precompiled: the graph then neither loads Ajv nor compiles the schema (src/compose/schema/validate.ts).
{
  const schemaDir = join(dist, 'compose/schema');
  const { PRECOMPILED_VALIDATOR, composeSpecStandaloneCode } = createRequire(import.meta.url)(join(schemaDir, 'validate.js'));
  writeFileSync(join(schemaDir, PRECOMPILED_VALIDATOR), composeSpecStandaloneCode());
}
