/** One table per transform: short form → the long form compose-go v2.4.8 gives (transform/*.go and their tests). */
import { describe, expect, it } from 'vitest';
import { Tagged } from '../yaml-source';
import { canonical, TRANSFORMS } from './canonical';
import { parsePort } from './ports';
import { parseVolume } from './volume';

const service = (def: Record<string, unknown>) =>
  (canonical({ services: { s: def } }).services as Record<string, Record<string, unknown>>).s;

describe('canonical: one transform per key path', () => {
  it('dispatches every compose-go v2.4.8 key path', () => {
    expect(TRANSFORMS.map(([p]) => p)).toEqual([
      'services.*',
      'services.*.build.secrets.*',
      'services.*.build.additional_contexts',
      'services.*.depends_on',
      'services.*.env_file',
      'services.*.label_file',
      'services.*.extends',
      'services.*.gpus',
      'services.*.networks',
      'services.*.volumes.*',
      'services.*.dns',
      'services.*.devices.*',
      'services.*.secrets.*',
      'services.*.configs.*',
      'services.*.ports',
      'services.*.build',
      'services.*.build.ssh',
      'services.*.ulimits.*',
      'services.*.build.ulimits.*',
      'volumes.*',
      'networks.*',
      'secrets.*',
      'configs.*',
      'include.*',
    ]);
  });

  describe.each<[string, Array<[unknown, unknown]>]>([
    [
      'build',
      [
        ['./dir', { context: './dir' }],
        [
          { context: '.', dockerfile: 'D' },
          { context: '.', dockerfile: 'D' },
        ],
      ],
    ],
    [
      'depends_on',
      [
        [
          ['db', 'cache'],
          { db: { condition: 'service_started', required: true }, cache: { condition: 'service_started', required: true } },
        ],
        [{ db: { condition: 'service_healthy' } }, { db: { condition: 'service_healthy', required: true } }],
        [
          { db: { condition: 'service_healthy', required: false, restart: true } },
          { db: { condition: 'service_healthy', required: false, restart: true } },
        ],
      ],
    ],
    [
      'env_file',
      [
        ['a.env', [{ path: 'a.env', required: true }]],
        [
          ['a.env', { path: 'b.env', required: false }, { path: 'c.env' }],
          [
            { path: 'a.env', required: true },
            { path: 'b.env', required: false },
            { path: 'c.env', required: true },
          ],
        ],
      ],
    ],
    [
      'label_file',
      [
        ['a.labels', ['a.labels']],
        [
          ['a', 'b'],
          ['a', 'b'],
        ],
      ],
    ],
    [
      'dns',
      [
        ['8.8.8.8', ['8.8.8.8']],
        [['1.1.1.1'], ['1.1.1.1']],
      ],
    ],
    [
      'extends',
      [
        ['base', { service: 'base' }],
        [
          { service: 'base', file: 'b.yaml' },
          { service: 'base', file: 'b.yaml' },
        ],
      ],
    ],
    [
      'gpus',
      [
        ['all', [{ count: 'all' }]],
        [[{ driver: 'nvidia', count: 1 }], [{ driver: 'nvidia', count: 1 }]],
      ],
    ],
    [
      'networks',
      [
        [['front', 'back'], { front: null, back: null }],
        [{ front: { aliases: ['a'] } }, { front: { aliases: ['a'] } }],
      ],
    ],
    [
      'volumes',
      [
        [['./src:/app:ro'], [{ type: 'bind', source: './src', target: '/app', read_only: true, bind: { create_host_path: true } }]],
        [['data:/var/lib/data'], [{ type: 'volume', source: 'data', target: '/var/lib/data', volume: {} }]],
        [['/cache'], [{ type: 'volume', target: '/cache', volume: {} }]],
        [['./a:/b:z'], [{ type: 'bind', source: './a', target: '/b', bind: { selinux: 'z', create_host_path: true } }]],
        [[{ type: 'tmpfs', target: '/t' }], [{ type: 'tmpfs', target: '/t' }]],
      ],
    ],
    [
      'devices',
      [
        [['/dev/a'], [{ source: '/dev/a', target: '/dev/a', permissions: 'rwm' }]],
        [['/dev/a:/dev/b:r'], [{ source: '/dev/a', target: '/dev/b', permissions: 'r' }]],
      ],
    ],
    [
      'secrets',
      [
        [
          ['token', { source: 'key', target: '/k' }],
          [{ source: 'token' }, { source: 'key', target: '/k' }],
        ],
      ],
    ],
    ['configs', [[['conf'], [{ source: 'conf' }]]]],
    [
      'ports',
      [
        [['8080:80'], [{ mode: 'ingress', target: 80, published: '8080', protocol: 'tcp' }]],
        [[9000], [{ mode: 'ingress', target: 9000, protocol: 'tcp' }]],
        [['127.0.0.1:53:53/udp'], [{ mode: 'ingress', host_ip: '127.0.0.1', target: 53, published: '53', protocol: 'udp' }]],
        [
          ['8000-8001:9000-9001'],
          [
            { mode: 'ingress', target: 9000, published: '8000', protocol: 'tcp' },
            { mode: 'ingress', target: 9001, published: '8001', protocol: 'tcp' },
          ],
        ],
        [[{ target: 80, published: 8080 }], [{ target: 80, published: 8080 }]],
        [['not a port'], ['not a port']],
      ],
    ],
    [
      'ulimits',
      [
        [
          { nofile: 1024, nproc: { soft: 1, hard: 2 } },
          { nofile: 1024, nproc: { soft: 1, hard: 2 } },
        ],
      ],
    ],
  ])('services.*.%s', (key, rows) => {
    it.each(rows)('%j', (input, expected) => expect(service({ [key]: input })[key]).toEqual(expected));
  });

  describe.each<[string, Array<[unknown, unknown]>]>([
    [
      'ssh',
      [
        [['default', 'key=/path/id'], { default: null, key: '/path/id' }],
        [{ default: null }, { default: null }],
        [['nokey'], ['nokey']],
      ],
    ],
    ['secrets', [[['token'], [{ source: 'token' }]]]],
    [
      'additional_contexts',
      [
        [['a=./a', 'b=docker-image://x'], { a: './a', b: 'docker-image://x' }],
        [{ a: './a' }, { a: './a' }],
      ],
    ],
  ])('services.*.build.%s', (key, rows) => {
    it.each(rows)('%j', (input, expected) =>
      expect((service({ build: { context: '.', [key]: input } }).build as Record<string, unknown>)[key]).toEqual(expected),
    );
  });

  it.each<[string, unknown, unknown]>([
    ['external: {name} becomes external: true plus name', { external: { name: 'x' } }, { external: true, name: 'x' }],
    ['name wins over external.name', { external: { name: 'x' }, name: 'y' }, { external: true, name: 'y' }],
    ['external: true stays', { external: true }, { external: true }],
  ])('networks.*: %s', (_name, input, expected) =>
    expect((canonical({ networks: { n: input } }).networks as Record<string, unknown>).n).toEqual(expected),
  );

  it('include entries: a path becomes {path}', () => {
    expect(canonical({ include: ['a.yaml', { path: ['b.yaml'] }] }).include).toEqual([{ path: 'a.yaml' }, { path: ['b.yaml'] }]);
  });

  it('a tagged value is transformed inside its tag; !reset is left alone', () => {
    const s = service({ networks: new Tagged('override', ['a']), depends_on: new Tagged('reset', null) });
    expect(s.networks).toEqual(new Tagged('override', { a: null }));
    expect(s.depends_on).toEqual(new Tagged('reset', null));
  });

  it('is idempotent and leaves the input unchanged', () => {
    const input = { services: { s: { build: './x', networks: ['a'], ports: ['80'] } } };
    const once = canonical(input);
    expect(canonical(once)).toEqual(once);
    expect(input.services.s.networks).toEqual(['a']);
  });

  it.each([['80:80:80:80'], ['a-b:80'], ['9000-9002:80-81']])('parsePort(%s) cannot read it', (spec) =>
    expect(parsePort(spec)).toBeUndefined(),
  );
  it.each([[''], ['/a::b']])('parseVolume(%j) cannot read it', (spec) => expect(parseVolume(spec)).toBeUndefined());
  it('parseVolume keeps a Windows drive in the source', () =>
    expect(parseVolume('C:\\data:/data')).toMatchObject({ type: 'bind', source: 'C:\\data', target: '/data' }));
});
