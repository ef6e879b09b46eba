/**
 * A compose workspace with one service per input rule in the affected tests:
 * a (dockerignore with a ! re-include), b (FROM a), c (Dockerfile outside its
 * context), d (Dockerfile-specific ignore file), e (local and service:
 * additional contexts), cache (image only); and the root-context layout in mono/:
 * api, web and worker all build `context: .` with `dockerfile: src/<svc>/Dockerfile`,
 * each COPYing its own folder, two of them the shared pb/ folder; worker's unreached dev stage
 * starts from b's image.
 */
export const AFFECTED_FIXTURE: Record<string, string> = {
  'compose.yaml': `name: app
services:
  a:
    image: registry.local/app/a:\${A_VERSION}
    build:
      context: ./a
      platforms: [linux/amd64, linux/arm64]
  b:
    image: registry.local/app/b:latest
    build:
      context: ./b
      args:
        FLAG: \${B_FLAG}
        A_TAG: \${A_VERSION}
  c:
    image: registry.local/app/c:latest
    build:
      context: ./c
      dockerfile: ../dockerfiles/c.Dockerfile
  d:
    image: registry.local/app/d:latest
    build: ./d
  e:
    image: registry.local/app/e:latest
    build:
      context: ./e
      additional_contexts:
        shared: ./shared
        fromA: service:a
  cache:
    image: registry.local/cache:7
`,
  'compose.override.yaml': `services:
  b:
    build:
      args:
        EXTRA: "1"
`,
  '.env': 'A_VERSION=1\nB_FLAG=on\nUNUSED=zzz\n',
  'a/Dockerfile': 'FROM scratch\nCOPY . /app\n',
  'a/.dockerignore': '*.md\n!README.md\ndocs/\n**/*.tmp\n',
  'a/main.sh': 'echo a\n',
  'a/README.md': '# a\n',
  'a/NOTES.md': 'notes\n',
  'a/docs/guide.txt': 'guide\n',
  'b/Dockerfile': 'ARG A_TAG=1\nFROM registry.local/app/a:${A_TAG} AS base\nCOPY . /b\n',
  'b/main.sh': 'echo b\n',
  'c/main.sh': 'echo c\n',
  'dockerfiles/c.Dockerfile': 'FROM scratch\nCOPY main.sh /c\n',
  'd/Dockerfile': 'FROM scratch\nCOPY . /d\n',
  'd/Dockerfile.dockerignore': '*.log\n',
  'd/.dockerignore': '*.txt\n',
  'd/main.sh': 'echo d\n',
  'e/Dockerfile': 'FROM scratch\nCOPY --from=shared . /shared\nCOPY --from=fromA /app /a\n',
  'shared/lib.sh': 'echo lib\n',
  'README.md': '# workspace\n',
  'mono/compose.yaml': `name: mono
services:
  api:
    image: registry.local/mono/api:latest
    build:
      context: .
      dockerfile: src/api/Dockerfile
      args:
        PORT: \${API_PORT}
  web:
    image: registry.local/mono/web:latest
    build:
      context: .
      dockerfile: src/web/Dockerfile
  worker:
    image: registry.local/mono/worker:latest
    build:
      context: .
      dockerfile: src/worker/Dockerfile
      target: prod
`,
  'mono/.env': 'API_PORT=8080\nUNUSED=1\n',
  'mono/.dockerignore': '**/*.log\n*.md\n',
  'mono/README.md': '# mono\n',
  'mono/src/api/Dockerfile': 'FROM scratch\nARG PORT\nCOPY pb/ /pb/\nCOPY src/api/ /app/\n',
  'mono/src/api/main.go': 'package main\n',
  'mono/src/web/Dockerfile': 'FROM scratch\nCOPY pb /pb\nCOPY src/web/*.js /app/\n',
  'mono/src/web/app.js': 'console.log(1)\n',
  'mono/src/web/notes.txt': 'notes\n',
  // dev, which the prod target never reaches, starts from b's image: no edge to b.
  'mono/src/worker/Dockerfile':
    'FROM registry.local/app/b:latest AS dev\nCOPY tools/ /tools/\nFROM scratch AS prod\nCOPY src/worker/ /app/\n',
  'mono/src/worker/run.sh': 'echo run\n',
  'mono/tools/dev.sh': 'echo dev\n',
  'mono/pb/api.proto': 'syntax = "proto3";\n',
  'mono/docs/guide.txt': 'guide\n',
};
