import { describe, expect, test } from 'vitest';
import {
  binfmtPlatforms,
  missingPlatforms,
  missingPlatformsMessage,
  parseBinfmtMisc,
  parseBuildxInspect,
  supportedPlatforms,
} from './builder-support';

const DOCKER_DRIVER = `Name:          default
Driver:        docker
Last Activity: 2024-05-01 10:00:00 +0000 UTC

Nodes:
Name:      default
Endpoint:  default
Status:    running
BuildKit:  v0.13.2
Platforms: linux/amd64, linux/amd64/v2, linux/amd64/v3, linux/386, linux/arm64, linux/riscv64, linux/ppc64le, linux/s390x, linux/arm/v7, linux/arm/v6
Labels:
 org.mobyproject.buildkit.worker.moby.host-gateway-ip: 172.17.0.1
`;

const TWO_NODES = `Name:          multi
Driver:        docker-container
Last Activity: 2024-05-01 10:00:00 +0000 UTC

Nodes:
Name:      multi0
Endpoint:  unix:///var/run/docker.sock
Driver Options: image="moby/buildkit:v0.13.2"
Status:    running
BuildKit version: v0.13.2
Platforms: linux/amd64*, linux/amd64/v2,
           linux/386
Labels:
 org.mobyproject.buildkit.worker.executor: oci

Name:      arm
Endpoint:  ssh://me@arm-host
Status:    running
Platforms: linux/arm64*, linux/arm64/v8, linux/arm/v7
`;

describe('parseBuildxInspect', () => {
  test('docker driver', () => {
    const info = parseBuildxInspect(DOCKER_DRIVER);
    expect(info.name).toBe('default');
    expect(info.driver).toBe('docker');
    expect(info.nodes).toHaveLength(1);
    expect(info.nodes[0]).toMatchObject({ name: 'default', endpoint: 'default', status: 'running', buildkit: 'v0.13.2' });
    expect(info.platforms).toEqual([
      'linux/amd64',
      'linux/amd64/v2',
      'linux/amd64/v3',
      'linux/386',
      'linux/arm64',
      'linux/riscv64',
      'linux/ppc64le',
      'linux/s390x',
      'linux/arm/v7',
      'linux/arm/v6',
    ]);
  });

  test('several nodes, starred platforms, continuation lines', () => {
    const info = parseBuildxInspect(TWO_NODES);
    expect(info.name).toBe('multi');
    expect(info.driver).toBe('docker-container');
    expect(info.nodes.map((n) => [n.name, n.endpoint, n.platforms])).toEqual([
      ['multi0', 'unix:///var/run/docker.sock', ['linux/amd64', 'linux/amd64/v2', 'linux/386']],
      ['arm', 'ssh://me@arm-host', ['linux/arm64', 'linux/arm64/v8', 'linux/arm/v7']],
    ]);
    expect(info.platforms).toEqual(['linux/amd64', 'linux/amd64/v2', 'linux/386', 'linux/arm64', 'linux/arm/v7']);
  });

  test('not started builder has no platforms', () => {
    expect(
      parseBuildxInspect('Name: x\nDriver: docker-container\n\nNodes:\nName: x0\nEndpoint: unix:///s\nStatus: inactive\n').platforms,
    ).toEqual([]);
  });
});

describe('binfmt_misc', () => {
  const files = {
    register: '',
    status: 'enabled\n',
    'qemu-aarch64': 'enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POCF\n',
    'qemu-arm': 'enabled\ninterpreter /usr/bin/qemu-arm-static\nflags: F\n',
    'qemu-s390x': 'disabled\ninterpreter /usr/bin/qemu-s390x-static\n',
    'buildkit-qemu-riscv64': 'enabled\n',
    'python3.11': 'enabled\ninterpreter /usr/bin/python3.11\n',
  };

  test('entries with their status', () => {
    expect(parseBinfmtMisc(files)).toEqual([
      { name: 'buildkit-qemu-riscv64', enabled: true },
      { name: 'python3.11', enabled: true },
      { name: 'qemu-aarch64', enabled: true },
      { name: 'qemu-arm', enabled: true },
      { name: 'qemu-s390x', enabled: false },
    ]);
  });

  test('globally disabled', () => {
    expect(parseBinfmtMisc({ ...files, status: 'disabled\n' })).toEqual([]);
  });

  test('platforms of enabled qemu entries', () => {
    expect(binfmtPlatforms(parseBinfmtMisc(files))).toEqual([
      'linux/riscv64',
      'linux/arm64',
      'linux/arm/v7',
      'linux/arm/v6',
      'linux/arm/v5',
    ]);
  });
});

describe('missingPlatforms', () => {
  const builder = parseBuildxInspect(DOCKER_DRIVER);
  test.each([
    ['all supported by the builder', ['linux/amd64', 'linux/arm64/v8', 'linux/arm'], supportedPlatforms(builder, []), 'x86_64', []],
    ['host native covers amd64 and 386', ['linux/amd64', 'linux/386'], [], 'x86_64', []],
    ['arm64 host runs arm64 only natively', ['linux/arm64', 'linux/amd64'], [], 'aarch64', ['linux/amd64']],
    ['nothing emulated', ['linux/amd64', 'linux/arm64', 'linux/s390x'], [], 'x86_64', ['linux/arm64', 'linux/s390x']],
    [
      'binfmt adds what the builder does not list',
      ['linux/arm64', 'linux/s390x', 'linux/riscv64'],
      supportedPlatforms(undefined, [
        { name: 'qemu-aarch64', enabled: true },
        { name: 'qemu-s390x', enabled: false },
      ]),
      'amd64',
      ['linux/s390x', 'linux/riscv64'],
    ],
    ['duplicates reported once', ['linux/arm64', 'linux/arm64/v8'], [], 'x86_64', ['linux/arm64']],
  ])('%s', (_name, requested, supported, host, expected) => {
    expect(missingPlatforms(requested, supported, host)).toEqual(expected);
  });

  test('message names each platform and the fix', () => {
    const msg = missingPlatformsMessage('api', ['linux/arm64', 'linux/arm/v7', 'linux/s390x'], 'default');
    expect(msg).toContain('Service "api"');
    expect(msg).toContain('builder "default"');
    expect(msg).toContain('linux/arm64: no emulator registered (binfmt_misc entry qemu-aarch64)');
    expect(msg).toContain('linux/arm/v7: no emulator registered (binfmt_misc entry qemu-arm)');
    expect(msg).toContain('linux/s390x');
    expect(msg).toContain('docker run --privileged --rm tonistiigi/binfmt --install arm64,arm,s390x');
    expect(msg).toContain('apt-get install qemu-user-static');
  });
});
