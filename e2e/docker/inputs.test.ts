/**
 * Dockerfile-aware inputs checked against BuildKit itself.
 *
 * For every file of every service's contexts: change it, rebuild (linux/amd64,
 * `--network none`, `--provenance=false`, SOURCE_DATE_EPOCH=0 with the OCI exporter's
 * `rewrite-timestamp=true`), and compare the image digest with the baseline. A file that
 * changes the digest but is not among the service's input globs (as `nx graph` reports
 * them, matched with Nx's own glob engine) is a miss and fails the test. Inputs that
 * leave the digest alone (a comment in a Dockerfile, the ignore file) are over-selection,
 * allowed and printed.
 *
 * Services: every construct of graph/dockerfile-reads.ts (constructs, named), a root
 * context with a shared folder (mono-*), a fallback to the whole context with ignore
 * rules (mono-whole), ONBUILD triggers of a stage and of a workspace image (onbuild-*), and real Dockerfiles from public repositories, copied verbatim
 * except FROM, which names the local base image (no registry on the internet here):
 * - open-telemetry/opentelemetry-demo @ 054282e318317f2be09f67dd9b0d7d1278566cfa,
 *   src/image-provider/Dockerfile and the repository's .dockerignore (root context);
 * - instana/robot-shop @ 55292e2199f2fb00a165b1f7d3045fe7f8922038, mongo/Dockerfile and
 *   mysql/Dockerfile (its config.sh, which the build runs, is a stand-in: no code of theirs is copied);
 * - docker/awesome-compose @ 18f59bdb09ecf520dd5758fbf90dec314baec545,
 *   nginx-flask-mysql/proxy/Dockerfile.
 * The other context files are small stand-ins under the repositories' own names.
 */
import { chmodSync, readFileSync, readdirSync, statSync, symlinkSync, utimesSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_IMAGE } from '../support/stack';
import { createWorkspace, run, type TempWorkspace } from '../support/workspace';

const matchGlobPaths = (
  createRequire(import.meta.url)('nx/src/native') as { matchGlobPaths: (globs: string[], paths: string[]) => boolean[] }
).matchGlobPaths;

const BASE = BASE_IMAGE;

const FILES: Record<string, string> = {
  'compose.yaml': `name: inputs
services:
  constructs:
    image: 127.0.0.1:5000/nxcb-inputs/constructs:latest
    build:
      context: ./constructs
      target: final
      args:
        SVC_DIR: app
  named:
    image: 127.0.0.1:5000/nxcb-inputs/named:latest
    build:
      context: ./named
      additional_contexts:
        shared: ./shared
  named-stage:
    image: 127.0.0.1:5000/nxcb-inputs/named-stage:latest
    build:
      context: ./named-stage
      additional_contexts:
        shared: ./shared
  mono-api:
    image: 127.0.0.1:5000/nxcb-inputs/mono-api:latest
    build:
      context: ./mono
      dockerfile: src/api/Dockerfile
  mono-web:
    image: 127.0.0.1:5000/nxcb-inputs/mono-web:latest
    build:
      context: ./mono
      dockerfile: src/web/Dockerfile
  mono-whole:
    image: 127.0.0.1:5000/nxcb-inputs/mono-whole:latest
    build:
      context: ./mono
      dockerfile: src/whole/Dockerfile
  otel-image-provider:
    image: 127.0.0.1:5000/nxcb-inputs/otel-image-provider:latest
    build:
      context: ./otel
      dockerfile: src/image-provider/Dockerfile
  robot-mongo:
    image: 127.0.0.1:5000/nxcb-inputs/robot-mongo:latest
    build: ./robot-shop/mongo
  robot-mysql:
    image: 127.0.0.1:5000/nxcb-inputs/robot-mysql:latest
    build: ./robot-shop/mysql
  flask-proxy:
    image: 127.0.0.1:5000/nxcb-inputs/flask-proxy:latest
    build: ./awesome-compose/nginx-flask-mysql/proxy
  overlap:
    image: 127.0.0.1:5000/nxcb-inputs/overlap:latest
    build:
      context: ./overlap
      additional_contexts:
        inner: ./overlap/inner
  onbuild-stage:
    image: 127.0.0.1:5000/nxcb-inputs/onbuild-stage:latest
    build: ./onbuild-stage
  onbuild-base:
    image: 127.0.0.1:5000/nxcb-inputs/onbuild-base:latest
    build: ./onbuild-base
  onbuild-child:
    image: 127.0.0.1:5000/nxcb-inputs/onbuild-child:latest
    build: ./onbuild-child
`,
  // --- every construct -------------------------------------------------------------
  'constructs/Dockerfile': `ARG BASE=${BASE}
ARG SVC_DIR=default
FROM \${BASE} AS tools
COPY tools/ /tools/
# An image that is never pushed: BuildKit resolves no image of a stage the build does not reach,
# so the graph makes no edge for it (graph/dockerfile-refs.ts) and every build here still succeeds.
FROM 127.0.0.1:5000/nxcb-inputs/never-pushed:none AS unused
COPY unused.txt /unused.txt
FROM \${BASE} AS final
ARG SVC_DIR
ENV CONF=conf
COPY *.json /json/
COPY /rooted.txt \\
     lib/a.sh \\
     /multi/
COPY ["spaced name.txt", "/spaced/"]
COPY <<EOF /heredoc.txt
written inline
EOF
COPY \${SVC_DIR}/ /svc/
COPY $CONF/[ab]?.ini /conf/
COPY --from=tools /tools /t
COPY link.txt /link.txt
COPY linked/t.txt /lt.txt
RUN --mount=type=bind,source=bind/data.txt,target=/data.txt cat /data.txt > /bind.out
FROM \${BASE} AS debug
COPY debug.txt /debug.txt
`,
  'constructs/.dockerignore': '*.log\n!keep.log\nignored-dir/\n',
  'constructs/a.json': '{"a":1}\n',
  'constructs/b.json': '{"b":1}\n',
  'constructs/sub/c.json': '{"c":1}\n',
  'constructs/rooted.txt': 'rooted\n',
  'constructs/lib/a.sh': 'echo a\n',
  'constructs/lib/b.sh': 'echo b\n',
  'constructs/spaced name.txt': 'spaced\n',
  'constructs/app/main.sh': 'echo app\n',
  'constructs/app/debug.log': 'log\n',
  'constructs/keep.log': 'kept but unread\n',
  'constructs/default/main.sh': 'echo default\n',
  'constructs/conf/a1.ini': 'a1\n',
  'constructs/conf/b2.ini': 'b2\n',
  'constructs/conf/c3.ini': 'c3\n',
  'constructs/conf/a10.ini': 'a10\n',
  'constructs/tools/t.sh': 'echo t\n',
  'constructs/unused.txt': 'unused\n',
  'constructs/debug.txt': 'debug\n',
  'constructs/bind/data.txt': 'data\n',
  'constructs/bind/other.txt': 'other\n',
  'constructs/notes.md': 'notes\n',
  // Symlinks (made in beforeAll): link.txt -> link-target.txt and linked -> link-src are followed;
  // tools/to-debug -> ../debug.txt lies in a copied folder, so it is copied as a link.
  'constructs/link-target.txt': 'target\n',
  'constructs/link-src/t.txt': 't\n',
  'constructs/link-src/other.txt': 'other\n',
  'constructs/ignored-dir/z.txt': 'z\n',
  // --- named contexts --------------------------------------------------------------
  'named/Dockerfile': `FROM ${BASE}
COPY --from=shared lib/ /lib/
RUN --mount=from=shared,source=conf/app.conf,target=/app.conf cat /app.conf > /conf.out
COPY own.txt /own.txt
COPY --from=shared conf-link /conf-link.txt
`,
  'named/own.txt': 'own\n',
  // A named context with a stage's name replaces that stage: its RUN never runs, COPY --from reads the context.
  'named-stage/Dockerfile': `FROM ${BASE} AS shared
RUN echo from-the-stage > /stage.txt
FROM ${BASE}
COPY --from=shared lib/ /lib/
COPY own.txt /own.txt
`,
  'named-stage/own.txt': 'own\n',
  'named-stage/other.txt': 'other\n',
  'named/other.txt': 'other\n',
  'shared/lib/l.sh': 'echo l\n',
  'shared/conf/app.conf': 'app\n',
  'shared/conf/other.conf': 'other\n',
  'shared/extra.txt': 'extra\n',
  // buildx applies a named context's own .dockerignore to it.
  'shared/.dockerignore': 'lib/*.tmp\n',
  'shared/lib/scratch.tmp': 'not sent\n',
  // The main context drops inner/, which the named context inner sends whole (its notes.md too).
  'overlap/Dockerfile': `FROM ${BASE}
COPY . /all/
COPY --from=inner . /inner/
`,
  'overlap/.dockerignore': 'inner/\n*.md\n',
  'overlap/own.txt': 'own\n',
  'overlap/notes.md': 'not sent\n',
  'overlap/inner/x.txt': 'x\n',
  'overlap/inner/notes.md': 'sent by the named context\n',
  // --- ONBUILD: a trigger runs in the build FROM its image or stage, reading that build's context
  'onbuild-stage/Dockerfile': `FROM ${BASE} AS base
ONBUILD COPY trig.txt /trig.txt
FROM base
COPY own.txt /own.txt
`,
  'onbuild-stage/.dockerignore': '*.md\n',
  'onbuild-stage/own.txt': 'own\n',
  'onbuild-stage/trig.txt': 'read by the trigger\n',
  'onbuild-stage/notes.md': 'ignored\n',
  // onbuild-base is pushed in beforeAll; onbuild-child builds FROM it (a graph edge).
  'onbuild-base/Dockerfile': `FROM ${BASE}
COPY base.txt /base.txt
ONBUILD COPY trig.txt /trig.txt
`,
  'onbuild-base/base.txt': 'base\n',
  'onbuild-base/trig.txt': 'not read by this build\n',
  'onbuild-child/Dockerfile': `FROM 127.0.0.1:5000/nxcb-inputs/onbuild-base:latest
COPY own.txt /own.txt
`,
  'onbuild-child/.dockerignore': '*.md\n',
  'onbuild-child/own.txt': 'own\n',
  'onbuild-child/trig.txt': "read by the base image's trigger\n",
  'onbuild-child/notes.md': 'ignored\n',
  // --- root context, shared folder, whole-context fallback ---------------------------
  'mono/.dockerignore': '**/*.log\n*.md\n',
  'mono/README.md': '# mono\n',
  'mono/pb/demo.proto': 'syntax = "proto3";\n',
  'mono/src/api/Dockerfile': `FROM ${BASE}\nCOPY pb/ /pb/\nCOPY src/api/ /app/\n`,
  'mono/src/api/main.go': 'package main\n',
  'mono/src/api/debug.log': 'log\n',
  'mono/src/web/Dockerfile': `FROM ${BASE}\nCOPY pb /pb\nCOPY src/web/*.js /app/\n`,
  'mono/src/web/app.js': 'console.log(1)\n',
  'mono/src/web/notes.txt': 'notes\n',
  'mono/src/whole/Dockerfile': `FROM ${BASE}\nCOPY . /all/\n`,
  'mono/docs/guide.txt': 'guide\n',
  // --- open-telemetry/opentelemetry-demo (root context) -------------------------------
  'otel/.dockerignore': `
.github
docs
internal
src/*/README.md
src/*/Dockerfile
src/*/*/Dockerfile

###################################
# currency
./src/currency/client.js
./src/currency/node_modules/
###################################

###################################
# frontend
./src/frontend/node_modules/

###################################
# shipping
./src/shipping/target
###################################
`,
  'otel/src/image-provider/Dockerfile': `# Copyright The OpenTelemetry Authors
# SPDX-License-Identifier: Apache-2.0

FROM ${BASE}

USER 101

COPY src/image-provider/static/ /static/
COPY src/image-provider/nginx.conf.template /nginx.conf.template

EXPOSE \${IMAGE_PROVIDER_PORT}

STOPSIGNAL SIGQUIT

# Start nginx
CMD ["/bin/sh" , "-c" , "envsubst '$OTEL_COLLECTOR_HOST $IMAGE_PROVIDER_PORT $OTEL_COLLECTOR_PORT_GRPC $OTEL_SERVICE_NAME' < /nginx.conf.template > /etc/nginx/nginx.conf && cat  /etc/nginx/nginx.conf && exec nginx -g 'daemon off;'"]
`,
  'otel/src/image-provider/nginx.conf.template': 'events {}\n',
  'otel/src/image-provider/static/products/telescope.jpg': 'jpg\n',
  'otel/src/image-provider/README.md': '# image-provider\n',
  'otel/src/payment/index.js': 'console.log(1)\n',
  'otel/src/currency/client.js': 'client\n',
  'otel/pb/demo.proto': 'syntax = "proto3";\n',
  'otel/docs/services.md': 'docs\n',
  // --- instana/robot-shop ------------------------------------------------------------
  'robot-shop/mongo/Dockerfile': `FROM ${BASE}

COPY *.js /docker-entrypoint-initdb.d/
`,
  'robot-shop/mongo/catalogue.js': 'db.products.insertMany([]);\n',
  'robot-shop/mongo/users.js': 'db.users.insertMany([]);\n',
  'robot-shop/mongo/notes.txt': 'not copied\n',
  'robot-shop/mysql/Dockerfile': `FROM ${BASE}

VOLUME /data

ENV MYSQL_ALLOW_EMPTY_PASSWORD=yes \\
    MYSQL_DATABASE=cities \\
    MYSQL_USER=shipping \\
    MYSQL_PASSWORD=secret

# change datadir entry in /etc/mysql/my.cnf
COPY config.sh /root/
RUN /root/config.sh

COPY scripts/* /docker-entrypoint-initdb.d/

#RUN /entrypoint.sh mysqld & while [ ! -f /tmp/finished ]; do sleep 10; done
#RUN rm /docker-entrypoint-initdb.d/*

`,
  // A stand-in for robot-shop's config.sh (its code is not copied here): a script the build runs.
  'robot-shop/mysql/config.sh': '#!/bin/sh\nmkdir -p /etc/mysql && echo "datadir=/data/mysql" > /etc/mysql/my.cnf\n',
  'robot-shop/mysql/convert.sh': '#!/bin/sh\necho convert\n',
  'robot-shop/mysql/scripts/20-ratings.sql': 'CREATE TABLE ratings (id INT);\n',
  'robot-shop/mysql/scripts/99-finished.sh': '#!/bin/sh\ntouch /tmp/finished\n',
  // --- docker/awesome-compose ----------------------------------------------------------
  'awesome-compose/nginx-flask-mysql/proxy/Dockerfile': `FROM ${BASE}\nCOPY conf /etc/nginx/conf.d/default.conf`,
  'awesome-compose/nginx-flask-mysql/proxy/conf': 'server { listen 80; }\n',
  'awesome-compose/nginx-flask-mysql/proxy/README.md': 'not copied\n',
};

/** The target's options as the graph holds them: a field that is empty ([] / {}) is left out. */
interface BuildOptions {
  context: string;
  dockerfile?: string;
  args?: Record<string, string>;
  target?: string;
  additionalContexts?: Record<string, string>;
}

interface Service {
  name: string;
  build: BuildOptions;
  /** File globs of the service's docker-image named input. */
  globs: string[];
  /** Workspace-relative files of its local contexts. */
  files: string[];
  baseline?: string;
}

function walk(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = posix.join(dir, e.name);
    if (e.isSymbolicLink()) continue; // a change goes to its target, which is listed itself
    if (e.isDirectory()) out.push(...walk(root, path));
    else out.push(path);
  }
  return out;
}

describe('Dockerfile-aware inputs agree with BuildKit: a file that is not an input never changes the image digest', () => {
  let ws: TempWorkspace;
  let out: string;
  const services: Service[] = [];
  let builds = 0;

  const digest = async (svc: Service): Promise<string> => {
    const metadata = join(out, `${svc.name}-${builds++}.json`);
    const { build } = svc;
    const args = ['buildx', 'build', '--platform', 'linux/amd64', '--network', 'none', '--provenance=false'];
    args.push('--output', 'type=oci,dest=/dev/null,rewrite-timestamp=true', '--metadata-file', metadata);
    if (build.dockerfile) args.push('--file', join(ws.root, build.dockerfile));
    for (const [k, v] of Object.entries(build.args ?? {})) args.push('--build-arg', `${k}=${v}`);
    if (build.target) args.push('--target', build.target);
    for (const [k, v] of Object.entries(build.additionalContexts ?? {})) args.push('--build-context', `${k}=${join(ws.root, v)}`);
    args.push('--', join(ws.root, build.context));
    const r = await run('docker', args, { cwd: ws.root, env: { ...process.env, SOURCE_DATE_EPOCH: '0' } });
    if (r.status !== 0) throw new Error(`docker ${args.join(' ')} failed:\n${r.stderr.slice(-3000)}`);
    return (JSON.parse(readFileSync(metadata, 'utf-8')) as Record<string, string>)['containerimage.digest'];
  };

  beforeAll(async () => {
    ws = await createWorkspace({ files: FILES });
    for (const f of ['robot-shop/mysql/config.sh', 'robot-shop/mysql/convert.sh', 'robot-shop/mysql/scripts/99-finished.sh'])
      chmodSync(join(ws.root, f), 0o755);
    symlinkSync('link-target.txt', join(ws.root, 'constructs/link.txt'));
    symlinkSync('link-src', join(ws.root, 'constructs/linked'));
    symlinkSync('../debug.txt', join(ws.root, 'constructs/tools/to-debug'));
    // In a named context: conf-link -> conf/other.conf, which the named service then reads.
    symlinkSync('conf/other.conf', join(ws.root, 'shared/conf-link'));
    await ws.commit('symlinks');
    // The image onbuild-child starts from must be in the registry before any build of it.
    const pushed = await run(
      'docker',
      [
        'buildx',
        'build',
        '--platform',
        'linux/amd64',
        '--provenance=false',
        '--push',
        '-t',
        '127.0.0.1:5000/nxcb-inputs/onbuild-base:latest',
        '--',
        join(ws.root, 'onbuild-base'),
      ],
      { cwd: ws.root },
    );
    if (pushed.status !== 0) throw new Error(`pushing onbuild-base failed:\n${pushed.stderr.slice(-3000)}`);
    out = mkdtempSync(join(tmpdir(), 'nxcb-inputs-'));
    const graphFile = join(out, 'graph.json');
    await ws.nx(['graph', `--file=${graphFile}`]);
    const graph = JSON.parse(readFileSync(graphFile, 'utf-8')) as {
      graph: {
        nodes: Record<string, { data: { namedInputs?: Record<string, unknown[]>; targets: Record<string, { options: BuildOptions }> } }>;
      };
    };
    for (const [name, node] of Object.entries(graph.graph.nodes)) {
      const build = node.data.targets['docker-build']?.options;
      if (!build) continue;
      const globs = (node.data.namedInputs?.['docker-image'] ?? []).filter((i): i is string => typeof i === 'string');
      const dirs = [build.context, ...Object.values(build.additionalContexts ?? {})];
      const files = [...new Set(dirs.flatMap((d) => walk(ws.root, d)))].sort();
      services.push({ name, build, globs, files });
    }
    services.sort((a, b) => (a.name < b.name ? -1 : 1));
  });
  afterAll(() => {
    ws?.dispose();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('changes each context file in turn and rebuilds', async () => {
    expect(services.map((s) => s.name)).toEqual([
      'constructs',
      'flask-proxy',
      'mono-api',
      'mono-web',
      'mono-whole',
      'named',
      'named-stage',
      'onbuild-base',
      'onbuild-child',
      'onbuild-stage',
      'otel-image-provider',
      'overlap',
      'robot-mongo',
      'robot-mysql',
    ]);
    for (const svc of services) svc.baseline = await digest(svc);

    const isInput = (svc: Service, file: string) =>
      matchGlobPaths(
        svc.globs.map((g) => g.replace('{workspaceRoot}/', '')),
        [file],
      )[0];
    const misses: string[] = [];
    const overSelected: string[] = [];
    const changedBy = new Map<string, number>();
    const notInputs = new Map<string, string[]>();
    const allFiles = [...new Set(services.flatMap((s) => s.files))].sort();
    for (const file of allFiles) {
      const abs = join(ws.root, file);
      const original = readFileSync(abs);
      const { atime, mtime } = statSync(abs);
      writeFileSync(abs, Buffer.concat([original, Buffer.from('\n# changed by the inputs e2e\n')]));
      try {
        const users = services.filter((s) => s.files.includes(file));
        // Two builds at a time: the engine is shared, the contexts are small.
        for (let i = 0; i < users.length; i += 2) {
          await Promise.all(
            users.slice(i, i + 2).map(async (svc) => {
              const changed = (await digest(svc)) !== svc.baseline;
              const input = isInput(svc, file);
              if (changed) changedBy.set(svc.name, (changedBy.get(svc.name) ?? 0) + 1);
              if (!input) notInputs.set(svc.name, [...(notInputs.get(svc.name) ?? []), file]);
              if (changed && !input) misses.push(`${svc.name}: ${file} changed the digest but is not an input`);
              if (!changed && input) overSelected.push(`${svc.name}: ${file}`);
            }),
          );
        }
      } finally {
        writeFileSync(abs, original);
        utimesSync(abs, atime, mtime);
      }
    }
    console.info(
      `inputs e2e: ${builds} builds; not inputs (digest unchanged, as required):\n${[...notInputs].map(([s, f]) => `  ${s}: ${f.join(', ')}`).join('\n')}`,
    );
    console.info(`inputs e2e: over-selected (an input whose change left the digest alone):\n  ${overSelected.join('\n  ')}`);
    expect(misses).toEqual([]);
    // Power: every service has inputs that change its digest, and non-inputs left out.
    for (const svc of services) expect(changedBy.get(svc.name) ?? 0, svc.name).toBeGreaterThan(0);
    for (const svc of services) expect(notInputs.get(svc.name)?.length ?? 0, svc.name).toBeGreaterThan(0);
    // The precise cases stay precise (a fallback to the whole context would still pass the check above).
    expect(notInputs.get('mono-api')).toEqual([
      'mono/README.md',
      'mono/docs/guide.txt',
      'mono/src/api/debug.log',
      'mono/src/web/Dockerfile',
      'mono/src/web/app.js',
      'mono/src/web/notes.txt',
      'mono/src/whole/Dockerfile',
    ]);
    expect(notInputs.get('otel-image-provider')).toEqual([
      'otel/docs/services.md',
      'otel/pb/demo.proto',
      'otel/src/currency/client.js',
      'otel/src/image-provider/README.md',
      'otel/src/payment/index.js',
    ]);
    // The named context replaces the stage called shared: shared/lib/ is read (the stage's RUN never runs).
    expect(notInputs.get('named-stage')).toEqual([
      'named-stage/other.txt',
      'shared/conf/app.conf',
      'shared/conf/other.conf',
      'shared/extra.txt',
      'shared/lib/scratch.tmp',
    ]);
    // (constructs/app/debug.log is sent: `*.log` in .dockerignore matches the context's top level only.)
    expect(notInputs.get('constructs')).toEqual([
      'constructs/bind/other.txt',
      'constructs/conf/a10.ini',
      'constructs/conf/c3.ini',
      'constructs/debug.txt',
      'constructs/default/main.sh',
      'constructs/ignored-dir/z.txt',
      'constructs/keep.log',
      'constructs/lib/b.sh',
      'constructs/link-src/other.txt',
      'constructs/notes.md',
      'constructs/sub/c.json',
      'constructs/unused.txt',
    ]);
    expect(notInputs.get('named')).toEqual(['named/other.txt', 'shared/extra.txt', 'shared/lib/scratch.tmp']);
    expect(notInputs.get('overlap')).toEqual(['overlap/notes.md']);
    // A trigger is not parsed: the build it runs in reads its whole (filtered) context; the image that declares it reads nothing more.
    expect(notInputs.get('onbuild-stage')).toEqual(['onbuild-stage/notes.md']);
    expect(notInputs.get('onbuild-child')).toEqual(['onbuild-child/notes.md']);
    expect(notInputs.get('onbuild-base')).toEqual(['onbuild-base/trig.txt']);
    // Rebuilding the baseline gives the baseline: the check itself is reproducible.
    for (const svc of services.slice(0, 2)) expect(await digest(svc)).toBe(svc.baseline);
  });
});
