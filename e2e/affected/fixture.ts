/**
 * A compose workspace with one service per input rule in the affected tests:
 * a (dockerignore with a ! re-include), b (FROM a), c (Dockerfile outside its
 * context), d (Dockerfile-specific ignore file), e (local and service:
 * additional contexts), cache (image only).
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
};
