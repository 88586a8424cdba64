/**
 * One conformance suite for every RegistryStore: memory, clusterkit's Raft KV (etcd-shaped
 * HTTP API), a real etcd through its JSON gateway, a real etcd through the etcd3 client, and the
 * gossip CRDT map. Cross-client checks wait for convergence (eventual stores need rounds).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RealClock, RealTimers } from '../../src/core/clock.ts';
import { EtcdStore } from '../../src/registry/etcd-store.ts';
import { GatewayStore } from '../../src/registry/gateway-store.ts';
import { GossipHub, GossipStore } from '../../src/registry/gossip-store.ts';
import { MemoryStore } from '../../src/registry/memory-store.ts';
import { Registry } from '../../src/registry/registry.ts';
import type { RegistryStore } from '../../src/registry/store.ts';
import type { InstanceRecord } from '../../src/registry/types.ts';
import { type Backend, etcdMissing, startClusterkitKv, startEtcd } from './backends.ts';

interface Harness {
  /** A new client of the same backend. */
  open(): Promise<RegistryStore>;
  teardown(): Promise<void>;
}

interface Implementation {
  readonly name: string;
  readonly skip: string | false;
  setup(): Promise<Harness>;
}

let etcd: Backend | undefined;
let etcdUsers = 0;
async function sharedEtcd(): Promise<Backend> {
  etcdUsers++;
  etcd ??= await startEtcd();
  return etcd;
}
async function releaseEtcd(): Promise<void> {
  if (--etcdUsers === 0 && etcd !== undefined) {
    await etcd.stop();
    etcd = undefined;
  }
}

let prefixSeq = 0;
const uniquePrefix = () => `/conformance/${process.pid}-${prefixSeq++}/`;

function tracked(open: () => RegistryStore, extra: () => Promise<void> = async () => {}): Harness {
  const opened: RegistryStore[] = [];
  return {
    open: async () => {
      const s = open();
      opened.push(s);
      return s;
    },
    teardown: async () => {
      for (const s of opened) await s.close();
      await extra();
    },
  };
}

const IMPLEMENTATIONS: Implementation[] = [
  {
    name: 'memory',
    skip: false,
    setup: async () => {
      const shared = new MemoryStore();
      return { open: async () => shared, teardown: () => shared.close() };
    },
  },
  {
    name: 'kv (clusterkit Raft KV, etcd-shaped HTTP API)',
    skip: false,
    setup: async () => {
      const kv = await startClusterkitKv();
      const prefix = uniquePrefix();
      return tracked(() => new GatewayStore({ endpoints: [kv.endpoint], prefix, kind: 'kv' }), () => kv.stop());
    },
  },
  {
    name: 'etcd JSON gateway (real etcd)',
    skip: etcdMissing,
    setup: async () => {
      const e = await sharedEtcd();
      const prefix = uniquePrefix();
      return tracked(() => new GatewayStore({ endpoints: [e.endpoint], prefix, kind: 'etcd-gateway' }), releaseEtcd);
    },
  },
  {
    name: 'etcd (etcd3 client, leases)',
    skip: etcdMissing,
    setup: async () => {
      const e = await sharedEtcd();
      const prefix = uniquePrefix();
      return tracked(() => new EtcdStore({ hosts: [e.endpoint], prefix, leaseTtlSec: 5 }), releaseEtcd);
    },
  },
  {
    name: 'gossip (CRDT map, in-process hub)',
    skip: false,
    setup: async () => {
      const hub = new GossipHub();
      const names = ['g1', 'g2', 'g3'];
      let next = 0;
      return tracked(() => {
        const self = names[next++ % names.length] ?? 'g1';
        return new GossipStore({ self, peers: () => names, transport: hub.transport(self), tickMs: 20 });
      });
    },
  },
];

function record(id: string, over: Partial<InstanceRecord> = {}): InstanceRecord {
  return { id, service: 'web', address: '127.0.0.1', port: 8000, tags: ['v1'], meta: { zone: 'a' }, weight: 1, check: undefined, status: 'passing', output: '', node: 'r1', ...over };
}

async function eventually(what: string, cond: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const impl of IMPLEMENTATIONS) {
  describe(`RegistryStore conformance: ${impl.name}`, { skip: impl.skip }, () => {
    let h: Harness;
    before(async () => {
      h = await impl.setup();
    });
    after(async () => {
      await h.teardown();
    });

    it('put is visible in the same client’s snapshot and moves the index', async () => {
      const s = await h.open();
      const before = await s.snapshot();
      await s.put(record('a'));
      const after = await s.snapshot();
      assert.ok(after.index > before.index, `index ${before.index} -> ${after.index}`);
      const got = after.records.find((r) => r.id === 'a');
      assert.equal(got?.port, 8000);
      assert.deepEqual(got?.meta, { zone: 'a' });
    });

    it('put of an existing id replaces it', async () => {
      const s = await h.open();
      await s.put(record('b', { port: 1 }));
      await s.put(record('b', { port: 2, status: 'critical' }));
      const recs = (await s.snapshot()).records.filter((r) => r.id === 'b');
      assert.equal(recs.length, 1);
      assert.equal(recs[0]?.port, 2);
      assert.equal(recs[0]?.status, 'critical');
    });

    it('remove returns true once, then false', async () => {
      const s = await h.open();
      await s.put(record('c'));
      assert.equal(await s.remove('c'), true);
      assert.equal(await s.remove('c'), false);
      assert.equal((await s.snapshot()).records.some((r) => r.id === 'c'), false);
    });

    it('another client sees the change and is notified', async () => {
      const s1 = await h.open();
      const s2 = await h.open();
      let notified = 0;
      s2.subscribe(() => notified++);
      await new Promise((r) => setTimeout(r, 100)); // let watch streams open
      await s1.put(record('d', { port: 4444 }));
      await eventually('d visible to the second client', async () => (await s2.snapshot()).records.some((r) => r.id === 'd' && r.port === 4444));
      await eventually('second client notified', async () => notified > 0);
      await s1.remove('d');
      await eventually('removal visible to the second client', async () => !(await s2.snapshot()).records.some((r) => r.id === 'd'));
    });

    it('two registries on the store: a blocking query on one wakes on a registration through the other', async () => {
      const mk = async (node: string) => {
        const r = new Registry({ store: await h.open(), clock: new RealClock(), timers: new RealTimers(), config: { node } });
        await r.start();
        return r;
      };
      const ra = await mk('ra');
      const rb = await mk('rb');
      try {
        const idx = rb.health('api').index;
        const waiting = rb.blockingHealth('api', { index: idx, waitMs: 10_000 });
        await ra.register({ Name: 'api', ID: 'api-1', Port: 9000 });
        const r = await waiting;
        assert.deepEqual(
          r.instances.map((i) => i.id),
          ['api-1'],
        );
      } finally {
        await ra.close();
        await rb.close();
      }
    });
  });
}

describe('leased stores: a dead registry node\'s records vanish after the lease TTL', () => {
  const cases: { name: string; skip: string | false; backend: () => Promise<{ endpoint: string; done: () => Promise<void> }>; open: (endpoint: string, prefix: string) => RegistryStore }[] = [
    {
      name: 'etcd (etcd3 client)',
      skip: etcdMissing,
      backend: async () => ({ endpoint: (await sharedEtcd()).endpoint, done: releaseEtcd }),
      open: (endpoint, prefix) => new EtcdStore({ hosts: [endpoint], prefix, leaseTtlSec: 2 }),
    },
    {
      name: 'etcd JSON gateway',
      skip: etcdMissing,
      backend: async () => ({ endpoint: (await sharedEtcd()).endpoint, done: releaseEtcd }),
      open: (endpoint, prefix) => new GatewayStore({ endpoints: [endpoint], prefix, kind: 'etcd-gateway', leaseTtlSec: 2 }),
    },
    {
      name: 'kv (clusterkit Raft KV)',
      skip: false,
      backend: async () => {
        const kv = await startClusterkitKv();
        return { endpoint: kv.endpoint, done: () => kv.stop() };
      },
      open: (endpoint, prefix) => new GatewayStore({ endpoints: [endpoint], prefix, kind: 'kv', leaseTtlSec: 2 }),
    },
  ];
  for (const c of cases) {
    it(c.name, { skip: c.skip }, async () => {
      const b = await c.backend();
      const prefix = uniquePrefix();
      const dying = c.open(b.endpoint, prefix);
      const observer = new GatewayStore({ endpoints: [b.endpoint], prefix, kind: 'observer' });
      try {
        await dying.put(record('leased'));
        await new Promise((r) => setTimeout(r, 2500)); // longer than the TTL: keep-alives hold the record
        assert.equal((await observer.snapshot()).records.length, 1, 'kept alive past one TTL');
        await dying.close(); // stops the keep-alives without revoking, as a crash would
        assert.equal((await observer.snapshot()).records.length, 1, 'still there right after the node stopped');
        await eventually('record gone after the lease TTL', async () => (await observer.snapshot()).records.length === 0, 15_000);
      } finally {
        await observer.close();
        await b.done();
      }
    });
  }
});

describe('kv store: the KV node is SIGKILLed and restarted', () => {
  it('the registry keeps serving its cache, then its watch reconnects and follows new writes', async () => {
    const kv = await startClusterkitKv();
    const prefix = uniquePrefix();
    const store = new GatewayStore({ endpoints: [kv.endpoint], prefix, kind: 'kv', reconnectBaseMs: 20, reconnectMaxMs: 200 });
    const writer = new GatewayStore({ endpoints: [kv.endpoint], prefix, kind: 'kv' });
    const registry = new Registry({ store, clock: new RealClock(), timers: new RealTimers(), config: { node: 'r' } });
    try {
      await registry.start();
      await writer.put(record('before'));
      await eventually('registry sees the first record', async () => registry.health('web').instances.length === 1);
      await kv.restart?.();
      assert.deepEqual(registry.health('web').instances.map((i) => i.id), ['before'], 'the cache answered through the outage');
      await writer.put(record('after'));
      await eventually('registry follows writes after the restart', async () => registry.health('web').instances.length === 2, 15_000);
      assert.ok(store.watchConnects >= 2, `watch reconnected (${store.watchConnects} connects)`);
    } finally {
      await registry.close();
      await store.close();
      await writer.close();
      await kv.stop();
    }
  });
});
