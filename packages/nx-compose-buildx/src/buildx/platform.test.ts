import { describe, expect, it, test } from 'vitest';
import {
  consistentPlatformArgs,
  acceptedUnameMachines,
  binfmtName,
  dockerArchFromUname,
  expectedUnameMachine,
  hostPlatform,
  isValidPlatform,
  normalizePlatform,
  normalizePlatforms,
} from './platform';

describe('normalizePlatform', () => {
  test.each([
    ['linux/amd64', 'linux/amd64'],
    ['linux/arm64', 'linux/arm64'],
    ['linux/arm64/v8', 'linux/arm64'],
    ['linux/arm/v7', 'linux/arm/v7'],
    ['linux/arm', 'linux/arm/v7'],
    ['linux/arm/v6', 'linux/arm/v6'],
    ['linux/arm/7', 'linux/arm/v7'],
    ['linux/386', 'linux/386'],
    ['linux/ppc64le', 'linux/ppc64le'],
    ['linux/s390x', 'linux/s390x'],
    ['linux/riscv64', 'linux/riscv64'],
    ['windows/amd64', 'windows/amd64'],
    ['Linux/AMD64', 'linux/amd64'],
    ['linux/x86_64', 'linux/amd64'],
    ['linux/aarch64', 'linux/arm64'],
    ['linux/armhf', 'linux/arm/v7'],
    ['linux/amd64/v1', 'linux/amd64'],
    ['linux/amd64/v3', 'linux/amd64/v3'],
    [' linux/amd64 ', 'linux/amd64'],
  ])('%s → %s', (input, expected) => {
    expect(normalizePlatform(input)).toBe(expected);
    expect(isValidPlatform(input)).toBe(true);
  });

  test.each([
    ['linux/arm65', /unknown architecture "arm65".*Did you mean "linux\/arm64"\?/],
    ['linux/amd46', /Did you mean "linux\/amd64"/],
    ['linx/amd64', /unknown operating system "linx".*Did you mean "linux\/amd64"/],
    ['amd64', /expected os\/arch/],
    ['linux/arm/v9', /unknown variant "v9" for arm/],
    ['linux/amd64/', /expected os\/arch/],
    ['linux/s390x/v2', /unknown variant/],
    ['', /expected os\/arch/],
  ])('%s is invalid', (input, message) => {
    expect(isValidPlatform(input)).toBe(false);
    expect(() => normalizePlatform(input)).toThrow(message);
  });

  test('normalizePlatforms dedupes and names every invalid entry', () => {
    expect(normalizePlatforms(['linux/arm64/v8', 'linux/arm64', 'linux/arm'])).toEqual(['linux/arm64', 'linux/arm/v7']);
    expect(() => normalizePlatforms(['linux/arm65', 'linux/amd64', 'foo/bar'])).toThrow(/arm65[\s\S]*foo/);
  });
});

describe('expectedUnameMachine / binfmtName', () => {
  test.each([
    ['linux/amd64', 'x86_64', 'x86_64'],
    ['linux/arm64', 'aarch64', 'aarch64'],
    ['linux/arm64/v8', 'aarch64', 'aarch64'],
    ['linux/arm/v7', 'armv7l', 'arm'],
    ['linux/arm/v6', 'armv6l', 'arm'],
    ['linux/386', 'i686', 'i386'],
    ['linux/ppc64le', 'ppc64le', 'ppc64le'],
    ['linux/s390x', 's390x', 's390x'],
    ['linux/riscv64', 'riscv64', 'riscv64'],
    ['linux/mips64le', 'mips64', 'mips64el'],
    ['linux/mips64', 'mips64', 'mips64'],
    ['linux/mipsle', 'mips', 'mipsel'],
    ['linux/mips', 'mips', 'mips'],
    ['linux/ppc64', 'ppc64', 'ppc64'],
    ['linux/loong64', 'loongarch64', 'loongarch64'],
    ['linux/arm/v5', 'armv5l', 'arm'],
    ['linux/arm', 'armv7l', 'arm'],
  ])('%s → uname %s, binfmt %s', (platform, uname, binfmt) => {
    expect(expectedUnameMachine(platform)).toBe(uname);
    expect(binfmtName(platform)).toBe(binfmt);
    expect(acceptedUnameMachines(platform)[0]).toBe(uname);
  });

  test('accepted aliases', () => {
    expect(acceptedUnameMachines('linux/arm/v6')).toEqual(['armv6l', 'armv7l', 'armv8l']);
    expect(acceptedUnameMachines('linux/amd64')).toEqual(['x86_64']);
  });
});

describe('uname ↔ docker arch', () => {
  test.each([
    ['x86_64', 'amd64', 'linux/amd64'],
    ['aarch64', 'arm64', 'linux/arm64'],
    ['armv7l', 'arm/v7', 'linux/arm/v7'],
    ['armv6l', 'arm/v6', 'linux/arm/v6'],
    ['i686', '386', 'linux/386'],
    ['ppc64le', 'ppc64le', 'linux/ppc64le'],
    ['s390x', 's390x', 'linux/s390x'],
    ['riscv64', 'riscv64', 'linux/riscv64'],
    ['amd64', 'amd64', 'linux/amd64'],
    ['arm64', 'arm64', 'linux/arm64'],
  ])('%s → %s', (uname, arch, platform) => {
    expect(dockerArchFromUname(uname)).toBe(arch);
    expect(hostPlatform(uname)).toBe(platform);
  });

  test('unknown machine', () => {
    expect(() => dockerArchFromUname('vax')).toThrow(/unknown machine name "vax"/);
  });
});

describe('consistentPlatformArgs', () => {
  it.each([
    { name: 'no platform args: unchanged', args: { A: '1' }, platforms: ['linux/amd64', 'linux/arm64'], expected: { A: '1' } },
    {
      name: 'several platforms: left to BuildKit',
      args: { TARGETARCH: 'amd64', EXTRA: '' },
      platforms: ['linux/amd64', 'linux/arm64'],
      expected: { EXTRA: '' },
    },
    { name: 'one platform: set from it', args: { TARGETARCH: 'amd64' }, platforms: ['linux/arm64'], expected: { TARGETARCH: 'arm64' } },
    {
      name: 'one platform with a variant',
      args: { TARGETARCH: 'x', TARGETVARIANT: '', TARGETOS: 'linux' },
      platforms: ['linux/arm/v7'],
      expected: { TARGETARCH: 'arm', TARGETVARIANT: 'v7', TARGETOS: 'linux' },
    },
    {
      name: 'builder default: uname name becomes the Docker name',
      args: { TARGETARCH: 'aarch64' },
      platforms: [],
      expected: { TARGETARCH: 'arm64' },
    },
    {
      name: 'builder default: armv7l gives arch and variant',
      args: { TARGETARCH: 'armv7l' },
      platforms: [],
      expected: { TARGETARCH: 'arm', TARGETVARIANT: 'v7' },
    },
  ])('$name', ({ args, platforms, expected }) => {
    expect(consistentPlatformArgs(args, platforms)).toEqual(expected);
  });
});
