import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore } from '../../src/registry/memory-store.ts';
import { type ProbeResult, type Prober, Registry, type RegistryEvent } from '../../src/registry/registry.ts';
import { parseRegistration, RegistrationError } from '../../src/registry/types.ts';
import { VirtualTime } from '../../src/registry/virtual-time.ts';

function setup(config: ConstructorParameters<typeof Registry>[0]['config'] = {}, prober?: Prober) {
  const time = new VirtualTime();
  const events: RegistryEvent[] = [];
  const store = new MemoryStore();
  const registry = new Registry({ store, clock: time, timers: time, config, onEvent: (e) => events.push(e), ...(prober === undefined ? {} : { prober }) });
  return { time, events, store, registry };
}

const ttl = (id: string, ttlMs = 1000, extra: Record<string, unknown> = {}) => ({ Name: 'web', ID: id, Port: 8080, Check: { TTL: ttlMs, ...extra } });

describe('registry core (virtual time)', () => {
  it('a TTL check turns critical when no heartbeat arrives within the TTL, and a pass restores it', async () => {
    const { time, registry } = setup();
    await registry.start();
    await registry.register(ttl('a', 1000));
    assert.equal(registry.health('web').instances[0]?.status, 'passing');
    await time.advance(900);
    assert.ok(await registry.updateTtl('service:a', 'passing'));
    await time.advance(900);
    assert.equal(registry.health('web').instances[0]?.status, 'passing', 'heartbeat at 900 ms re-armed the TTL');
    await time.advance(101);
    assert.equal(registry.health('web').instances[0]?.status, 'critical');
    assert.equal(registry.health('web', { passing: true }).instances.length, 0);
    assert.ok(await registry.updateTtl('a', 'warning', 'slow'));
    assert.equal(registry.health('web').instances[0]?.status, 'warning');
    assert.equal(registry.stats.ttlExpiries, 1);
  });

  it('deregisters an instance after it has been critical for DeregisterCriticalServiceAfter', async () => {
    const { time, registry, events } = setup();
    await registry.start();
    await registry.register(ttl('a', 1000, { DeregisterCriticalServiceAfter: '5s' }));
    await time.advance(1000);
    assert.equal(registry.health('web').instances[0]?.status, 'critical');
    await time.advance(4999);
    assert.equal(registry.health('web').instances.length, 1);
    await time.advance(1);
    assert.equal(registry.health('web').instances.length, 0);
    assert.ok(events.some((e) => e.type === 'deregistered' && e.reason === 'critical'));
  });

  it('a heartbeat while critical cancels the pending deregistration', async () => {
    const { time, registry } = setup();
    await registry.start();
    await registry.register(ttl('a', 1000, { DeregisterCriticalServiceAfter: 2000 }));
    await time.advance(1500);
    await registry.updateTtl('a', 'passing');
    await time.advance(900);
    await registry.updateTtl('a', 'passing');
    await time.advance(900);
    assert.equal(registry.health('web').instances.length, 1);
  });

  it('active checks need failureThreshold consecutive failures before critical and successThreshold successes before passing', async () => {
    let next: ProbeResult = { status: 'passing', output: 'ok' };
    let probes = 0;
    const prober: Prober = {
      probe: async () => {
        probes++;
        return next;
      },
    };
    const { time, registry } = setup({}, prober);
    await registry.start();
    await registry.register({ Name: 'api', ID: 'x', Port: 1, Check: { TCP: '127.0.0.1:1', Interval: '1s', Timeout: '500ms', FailuresBeforeCritical: 3, SuccessBeforePassing: 2 } });
    await time.advance(1000);
    assert.equal(probes, 1);
    next = { status: 'critical', output: 'refused' };
    await time.advance(2000);
    assert.equal(registry.health('api').instances[0]?.status, 'passing', 'two failures are below the threshold of 3');
    await time.advance(1000);
    assert.equal(registry.health('api').instances[0]?.status, 'critical', 'critical within interval × threshold');
    next = { status: 'passing', output: 'ok' };
    await time.advance(1000);
    assert.equal(registry.health('api').instances[0]?.status, 'critical');
    await time.advance(1000);
    assert.equal(registry.health('api').instances[0]?.status, 'passing');
  });

  it('blocking query returns at once when the index moved, else waits until a change or the wait time', async () => {
    const { time, registry } = setup();
    await registry.start();
    await registry.register({ Name: 'web', ID: 'a', Port: 1 });
    const first = registry.health('web');
    const stale = await registry.blockingHealth('web', { index: first.index - 1, waitMs: 60_000 });
    assert.equal(stale.index, first.index, 'an older index returns at once');

    let done = false;
    const waiting = registry.blockingHealth('web', { index: first.index, waitMs: 60_000 }).then((r) => {
      done = true;
      return r;
    });
    await time.advance(30_000);
    assert.equal(done, false);
    await registry.register({ Name: 'web', ID: 'b', Port: 2 });
    const r = await waiting;
    assert.ok(r.index > first.index);
    assert.equal(r.instances.length, 2);

    // a change to another service does not wake a waiter on `web`
    let done2 = false;
    const w2 = registry.blockingHealth('web', { index: r.index, waitMs: 5000 }).then((x) => {
      done2 = true;
      return x;
    });
    await registry.register({ Name: 'other', ID: 'o', Port: 1 });
    await time.advance(4000);
    assert.equal(done2, false);
    await time.advance(1000);
    assert.equal((await w2).index, r.index, 'timed out with the same index');
  });

  it('streamed watch delivers the current list and every change', async () => {
    const { time, registry } = setup();
    await registry.start();
    const seen: number[] = [];
    const stop = registry.watch('web', { passing: true }, (r) => seen.push(r.instances.length));
    await registry.register(ttl('a', 1000));
    await registry.register(ttl('b', 5000));
    await time.advance(1000);
    stop();
    await registry.deregister('b');
    assert.deepEqual(seen, [0, 1, 2, 1]);
  });

  it('self-preservation: when more than the threshold share would expire within the window, expiry stops and is reported', async () => {
    const { time, registry, events } = setup({ selfPreservation: { enabled: true, thresholdShare: 0.3, windowMs: 10_000, instancesMin: 4 } });
    await registry.start();
    for (let i = 0; i < 10; i++) await registry.register(ttl(`i${i}`, 1000));
    // a partition: no heartbeats from anyone
    await time.advance(1000);
    const critical = registry.instances().filter((r) => r.status === 'critical').length;
    assert.equal(critical, 3, 'expiries go through while the share stays at most 30% (the third makes 3/10); the fourth would be 40%');
    assert.equal(registry.selfPreservationActive, true);
    assert.ok(registry.stats.expiriesSuppressed >= 7, `suppressed ${registry.stats.expiriesSuppressed}`);
    assert.ok(events.some((e) => e.type === 'self-preservation' && e.active));
    assert.deepEqual((registry.status().selfPreservation as { active: boolean }).active, true);
    await time.advance(5000);
    assert.equal(registry.instances().filter((r) => r.status === 'critical').length, 3, 'still protected');
  });

  it('self-preservation ends once heartbeats are back for a window; single expiries then go through', async () => {
    const { time, registry, events } = setup({ selfPreservation: { enabled: true, thresholdShare: 0.3, windowMs: 10_000, instancesMin: 4 } });
    await registry.start();
    for (let i = 0; i < 10; i++) await registry.register(ttl(`i${i}`, 1000));
    await time.advance(1000);
    assert.equal(registry.selfPreservationActive, true);
    // the partition heals: everyone heartbeats every 500 ms for 12 s
    for (let t = 0; t < 24; t++) {
      for (let i = 0; i < 10; i++) await registry.updateTtl(`i${i}`, 'passing');
      await time.advance(500);
    }
    assert.equal(registry.selfPreservationActive, false);
    assert.equal(registry.instances().filter((r) => r.status === 'critical').length, 0);
    // one instance dies: 1 of 10 is below the threshold, so it expires
    for (let t = 0; t < 4; t++) {
      for (let i = 1; i < 10; i++) await registry.updateTtl(`i${i}`, 'passing');
      await time.advance(500);
    }
    assert.deepEqual(
      registry.instances().filter((r) => r.status === 'critical').map((r) => r.id),
      ['i0'],
    );
    assert.ok(events.some((e) => e.type === 'self-preservation' && !e.active), 'the end of self-preservation is reported');
  });

  it('without self-preservation every missed TTL expires', async () => {
    const { time, registry } = setup();
    await registry.start();
    for (let i = 0; i < 10; i++) await registry.register(ttl(`i${i}`, 1000));
    await time.advance(1000);
    assert.equal(registry.instances().filter((r) => r.status === 'critical').length, 10);
    assert.equal(registry.selfPreservationActive, false);
  });

  it('catalog services lists names with their tags', async () => {
    const { registry } = setup();
    await registry.start();
    await registry.register({ Name: 'web', ID: 'a', Port: 1, Tags: ['v1', 'blue'] });
    await registry.register({ Name: 'web', ID: 'b', Port: 2, Tags: ['v2'] });
    await registry.register({ Name: 'db', ID: 'c', Port: 3 });
    assert.deepEqual(registry.services().services, { db: [], web: ['blue', 'v1', 'v2'] });
    assert.equal(registry.health('web', { tag: 'v2' }).instances.length, 1);
  });
});

describe('store writes of one instance are ordered', () => {
  /** A store whose puts complete only when released, in any order the test chooses. */
  class SlowStore extends MemoryStore {
    readonly held: (() => void)[] = [];
    hold = false;
    override async put(record: Parameters<MemoryStore['put']>[0]): Promise<void> {
      if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
      return super.put(record);
    }
  }

  it('a slow write never lands after a newer one, and a deregistration is never undone by a late write', async () => {
    const time = new VirtualTime();
    const store = new SlowStore();
    const registry = new Registry({ store, clock: time, timers: time });
    await registry.start();
    await registry.register(ttl('a', 10_000));
    store.hold = true;
    const fail = registry.updateTtl('a', 'critical');
    const pass = registry.updateTtl('a', 'passing');
    await time.advance(0);
    // release in reverse order: only the first write is in the store's hands, the second waits
    assert.equal(store.held.length, 1, 'the second write waits for the first');
    store.held.pop()?.();
    await time.advance(0);
    store.held.pop()?.();
    await Promise.all([fail, pass]);
    assert.equal((await store.snapshot()).records[0]?.status, 'passing');

    const late = registry.updateTtl('a', 'warning');
    await time.advance(0);
    const gone = registry.deregister('a');
    await time.advance(0);
    store.hold = false;
    for (const r of store.held.splice(0)) r();
    await Promise.all([late, gone]);
    assert.equal((await store.snapshot()).records.length, 0, 'the deregistered instance stays gone');
  });
});

describe('registration validation names the field', () => {
  const cases: [string, unknown, string][] = [
    ['missing name', { Port: 80 }, 'Name'],
    ['bad name', { Name: 'a b', Port: 80 }, 'Name'],
    ['port 0', { Name: 'web', Port: 0 }, 'Port'],
    ['port string', { Name: 'web', Port: '80' }, 'Port'],
    ['port too big', { Name: 'web', Port: 70000 }, 'Port'],
    ['too many meta keys', { Name: 'web', Port: 80, Meta: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) }, 'Meta'],
    ['meta value too long', { Name: 'web', Port: 80, Meta: { k: 'x'.repeat(513) } }, 'Meta'],
    ['weight 0', { Name: 'web', Port: 80, Weight: 0 }, 'Weight'],
    ['two check kinds', { Name: 'web', Port: 80, Check: { TTL: '1s', TCP: 'a:1' } }, 'Check'],
    ['bad ttl', { Name: 'web', Port: 80, Check: { TTL: 'soon' } }, 'Check.TTL'],
    ['tags not array', { Name: 'web', Port: 80, Tags: 'x' }, 'Tags'],
  ];
  for (const [what, body, field] of cases) {
    it(what, () => {
      assert.throws(
        () => parseRegistration(body),
        (e: unknown) => e instanceof RegistrationError && e.field === field,
      );
    });
  }
  it('accepts a full registration', () => {
    const s = parseRegistration({ Name: 'web', ID: 'web-1', Address: '10.0.0.1', Port: 80, Tags: ['a'], Meta: { v: '1' }, Weights: { Passing: 3 }, Check: { HTTP: 'http://10.0.0.1/health', Interval: '5s', Timeout: '1s' } });
    assert.equal(s.weight, 3);
    assert.deepEqual(s.check, { type: 'http', target: 'http://10.0.0.1/health', intervalMs: 5000, timeoutMs: 1000, successThreshold: 1, failureThreshold: 1 });
  });
});
