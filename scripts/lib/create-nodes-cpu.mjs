#!/usr/bin/env node
// node scripts/lib/create-nodes-cpu.mjs <workspace> cold|warm — the plugin's createNodes run in
// this process, as Nx's plugin worker runs it (a fresh process with only the plugin entry
// loaded), with the compose files Nx would match. Prints {"wallMs","cpuMs"} for the call alone:
// CPU time (user + system) is what a shared machine's load distorts least, so bench:graph
// reports it beside Nx's own wall-clock figure. `cold` removes the graph cache first.
import { readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';

const [root, mode] = process.argv.slice(2);
const COMPOSE = /^(docker-)?compose\.ya?ml$/; // the plugin's base-file glob, as Nx applies it here
const configFiles = [];
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (['node_modules', '.nx', '.git'].includes(e.name)) continue;
    if (e.isDirectory()) walk(join(dir, e.name));
    else if (COMPOSE.test(e.name)) configFiles.push(relative(root, join(dir, e.name)));
  }
};
walk(root);
configFiles.sort();
if (mode === 'cold') rmSync(join(root, '.nx'), { recursive: true, force: true });
const { createNodes } = createRequire(join(root, 'package.json'))('nx-compose-buildx');
const cpu0 = process.cpuUsage();
const start = performance.now();
const results = await createNodes[1](configFiles, undefined, { workspaceRoot: root, nxJsonConfiguration: {} });
const wallMs = performance.now() - start;
const { user, system } = process.cpuUsage(cpu0);
if (results.length !== configFiles.length) throw new Error(`createNodes answered for ${results.length} of ${configFiles.length} files`);
console.log(JSON.stringify({ wallMs, cpuMs: (user + system) / 1000 }));
