import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveSchedulerConfig } from '../../src/scheduler/types.ts';
import { runCluster, runClusterAvailability, TOPOLOGIES, type Topology } from '../../src/scenarios/cluster-scenario.ts';
import { findScenario } from '../../src/scenarios/index.ts';
import { ALL_FAULTS } from '../../src/sim/nemesis.ts';
import { SimFailure } from '../../src/sim/simulator.ts';

const SEEDS = [1, 2, 3, 4, 5, 6];
const run = (topology: Topology, seed: number, extra: Partial<Parameters<typeof runCluster>[0]> = {}) =>
  runCluster({ seed, nodes: 4, durationMs: 10_000, faults: ALL_FAULTS, ops: 0, params: {}, topology, masters: 3, ...extra });

describe('cluster under the nemesis (seed 04.3.1-04.3.3)', () => {
  for (const topology of TOPOLOGIES) {
    it(`${topology}: safety holds, every workload converges to its replicas after heal, a later change is carried out (seeds ${SEEDS.join(',')})`, () => {
      for (const seed of SEEDS) {
        const r = run(topology, seed);
        assert.ok(r.nemesis.log.length > 3, 'faults were injected');
        assert.ok(r.harness.converged());
        if (topology !== 'distributed') assert.equal(r.sampler.duplicateTaskMs, 0);
      }
    });
  }

  it('the same seed replays bit for bit', () => {
    for (const topology of TOPOLOGIES) {
      const a = run(topology, 11, { durationMs: 4000 });
      const b = run(topology, 11, { durationMs: 4000 });
      assert.equal(a.harness.sim.traceHash(), b.harness.sim.traceHash(), topology);
    }
  });

  it('the checker catches a lease that outlives the worker timeout (what config validation forbids)', () => {
    const unsafe = { ...resolveSchedulerConfig(), leaseMs: 5000, workerTimeoutMs: 600 };
    let caught: SimFailure | undefined;
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      try {
        run('central', seed, { unsafeConfig: unsafe, faults: ['partition', 'pause'] });
      } catch (err) {
        if (!(err instanceof SimFailure)) throw err;
        caught = err;
        break;
      }
    }
    assert.ok(caught !== undefined, 'some seed must produce a duplicate');
    assert.match(caught.message, /runs on w\d+ and w\d+/);
  });

  it('the checker catches a master that acknowledges changes it has not fsynced', () => {
    const failures: string[] = [];
    for (const seed of [1, 2, 3, 4, 5]) {
      try {
        run('central', seed, { unsafeNoFsync: true, faults: ['crash'] });
      } catch (err) {
        if (!(err instanceof SimFailure)) throw err;
        failures.push(err.message);
      }
    }
    assert.ok(failures.length > 0, 'some seed must lose an acknowledged change');
    assert.match(failures[0] ?? '', /durability: |runs on/);
  });

  it("without fencing the cut-off workers keep running moved tasks: duplicates are measured, not forbidden", () => {
    let dup = 0;
    for (const seed of [1, 2, 3]) dup += run('central', seed, { config: { fencing: 'none' }, faults: ['partition'] }).sampler.duplicateTaskMs;
    assert.ok(dup > 0);
  });

  it('distributed: duplicates happen only while views disagree, and are gone at convergence', () => {
    let dup = 0;
    for (const seed of [1, 2, 3]) {
      const r = run('distributed', seed, { faults: ['partition'] });
      dup += r.sampler.duplicateTaskMs;
      for (const nodes of r.harness.runningMap().values()) assert.equal(nodes.length, 1);
    }
    assert.ok(dup > 0, 'partitions split the views, so both sides run some tasks');
  });

  it('the scenario is registered and rejects a bad topology', () => {
    const s = findScenario('cluster');
    assert.ok(s !== undefined);
    assert.throws(() => s.run({ seed: 1, nodes: 3, durationMs: 1000, faults: [], ops: 0, params: { topology: 'mesh' } }), /topology must be one of/);
    const r = s.run({ seed: 1, nodes: 3, durationMs: 2000, faults: ['crash'], ops: 0, params: { topology: 'hybrid' } });
    assert.equal(r.ok, true);
    assert.equal(r.summary.topology, 'hybrid');
  });
});

describe('measured availability under fail/repair (seed 04.3.4)', () => {
  it('fractions are consistent: the distributed control plane is up whenever any peer is', () => {
    const r = runClusterAvailability({ topology: 'distributed', seed: 3, workers: 3, masters: 1, mtbfMs: 4000, mttrMs: 1000, durationMs: 30_000 });
    assert.ok(r.failures > 5);
    assert.ok(r.controlPlaneAvailability >= r.serviceAvailability);
    assert.ok(r.allNodesUpFraction < r.serviceAvailability, 'spare peers keep the service up while some are down');
  });

  it('central: the service is down whenever the master is (leases stop the tasks), so it is at most the master fraction', () => {
    const r = runClusterAvailability({ topology: 'central', seed: 5, workers: 4, masters: 1, mtbfMs: 5000, mttrMs: 1000, durationMs: 30_000 });
    assert.ok(r.failures > 5);
    // Each master crash leaves at most one lease (500 ms) of service after it.
    assert.ok(r.serviceAvailability <= r.controlPlaneAvailability + (r.failures * 500) / 30_000);
    assert.ok(r.serviceAvailability < r.controlPlaneAvailability + 0.05);
    assert.equal(r.duplicateTaskMs, 0);
  });
});

describe('hybrid: a paused, cut-off leader cannot renew leases (quorum freshness)', () => {
  it('after resuming it withholds acks instead of handing out its stale assignment', async () => {
    const { ClusterHarness, bootCluster, defaultWorkloads } = await import('../../src/scenarios/cluster-scenario.ts');
    const { HybridMasterNode, WorkerNode } = await import('../../src/scenarios/cluster-hosts.ts');
    const h = new ClusterHarness({ topology: 'hybrid', seed: 7, workers: 3, masters: 3 });
    h.sim.addInvariant('cluster safety', () => h.violation());
    bootCluster(h, defaultWorkloads(3));
    const leader = h.masterIds.find((id) => (h.sim.node(id) as InstanceType<typeof HybridMasterNode>).serving) as string;
    const worker = h.workerIds.find((id) => (h.sim.node(id) as InstanceType<typeof WorkerNode>).running(h.sim.now()).length > 0) as string;
    const rest = [...h.masterIds, ...h.workerIds].filter((id) => id !== leader && id !== worker);
    h.sim.partition([[leader, worker], rest]);
    h.sim.pause(leader);
    h.sim.runFor(3000); // a new leader is elected on the other side and moves the worker's tasks
    const other = h.masterIds.find((id) => id !== leader && (h.sim.node(id) as InstanceType<typeof HybridMasterNode>).serving);
    assert.ok(other !== undefined, 'the majority side elected a leader');
    h.sim.resume(leader);
    h.sim.runFor(500); // the invariant runs after every event: no task on two workers
    const old = h.sim.node(leader) as InstanceType<typeof HybridMasterNode>;
    assert.ok(old.acksWithheld > 0, 'the resumed leader saw heartbeats and withheld its acks');
    assert.deepEqual((h.sim.node(worker) as InstanceType<typeof WorkerNode>).running(h.sim.now()), []);
  });
});
