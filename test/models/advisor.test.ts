import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../../src/core/errors.ts';
import { advise, candidateStructure } from '../../src/models/advisor.ts';
import { atLeastKOfN, majorityQuorumAvailability, sameAvailability } from '../../src/models/availability.ts';
import { structureAvailability } from '../../src/models/monteCarlo.ts';

describe('models/advisor: requirements → topology, consistency, discovery, load balancing (seed 04.8)', () => {
  it('13 machines, strong consistency, containers, 99.9%: a K3s cluster with etcd (Raft), Service/CoreDNS, Service + Ingress', () => {
    const a = advise({ nodes: 13, targetAvailability: 0.999, consistency: 'strong', workload: 'container' });
    assert.ok(a.topology, 'a topology is chosen');
    assert.ok(a.topology.availability >= 0.999);
    assert.ok(a.topology.technologies.some((t) => t.includes('K3s')), a.topology.technologies.join());
    assert.ok(a.consistency.technologies.includes('etcd'));
    assert.match(a.consistency.model, /Raft/);
    assert.ok(a.discovery.technologies.includes('CoreDNS'));
    assert.ok(a.loadBalancing.technologies.some((t) => t.includes('Ingress')));
    assert.ok(a.topologyReasons.length > 0 && a.consistency.reasons.length > 0);
  });
  it("computes each candidate's availability quorum-aware, with the seed's formula beside it", () => {
    const a = advise({ nodes: 13, targetAvailability: 0.99, consistency: 'strong', workload: 'container', nodeAvailability: 0.99, capacityNeeded: 0.8 });
    const h3 = a.candidates.find((c) => c.kind === 'hybrid-3');
    assert.ok(h3);
    const expected = majorityQuorumAvailability(sameAvailability(3, 0.99)) * atLeastKOfN(sameAvailability(10, 0.99), 8);
    assert.ok(Math.abs(h3.availability - expected) < 1e-12);
    assert.ok(Math.abs(h3.seedAvailability - (1 - 0.01 ** 3) * 0.99 ** 10) < 1e-12);
  });
  it('a large cluster gets Kubernetes with dedicated masters, not a stacked control plane', () => {
    const a = advise({ nodes: 200, targetAvailability: 0.999, consistency: 'strong', workload: 'container' });
    assert.equal(a.requirements.scale, 'large');
    assert.ok(a.topology);
    assert.ok(a.topology.kind === 'hybrid-3' || a.topology.kind === 'hybrid-5', a.topology.kind);
    assert.ok(a.topology.technologies.some((t) => t.includes('Kubernetes')));
  });
  it('eventual consistency maps to gossip (Consul); VMs to vCenter/OpenStack and a centralized balancer', () => {
    const a = advise({ nodes: 8, targetAvailability: 0.99, consistency: 'eventual', workload: 'vm' });
    assert.match(a.consistency.model, /gossip/);
    assert.ok(a.topology);
    assert.ok(a.topology.technologies.some((t) => /OpenStack|vCenter/.test(t)));
    assert.match(a.loadBalancing.model, /centralized/);
  });
  it('a tight latency budget moves VM load balancing to the client side', () => {
    const a = advise({ nodes: 8, targetAvailability: 0.99, consistency: 'eventual', workload: 'vm', latencyBudgetMs: 0.2 });
    assert.match(a.loadBalancing.model, /client-side/);
  });
  it('an unreachable target yields no topology and reports the best reachable availability', () => {
    const a = advise({ nodes: 3, targetAvailability: 0.999999, consistency: 'strong', workload: 'container', nodeAvailability: 0.9 });
    assert.equal(a.topology, undefined);
    assert.ok(a.bestAvailability < 0.999999 && a.bestAvailability > 0.5);
  });
  it('warns when the seed formula and the quorum-aware one disagree about the target', () => {
    const a = advise({ nodes: 5, targetAvailability: 0.999, consistency: 'strong', workload: 'container', nodeAvailability: 0.95 });
    assert.ok(a.warnings.some((w) => w.includes("seed's")), a.warnings.join('\n'));
  });
  it('rejects a target outside (0, 1) and bad counts', () => {
    assert.throws(() => advise({ nodes: 3, targetAvailability: 1, consistency: 'strong', workload: 'container' }), InvalidArgumentError);
    assert.throws(() => advise({ nodes: 0, targetAvailability: 0.9, consistency: 'strong', workload: 'container' }), /nodes/);
    assert.throws(() => advise({ nodes: 3, targetAvailability: 0.9, consistency: 'strong', workload: 'container', nodeAvailability: 2 }), /nodeAvailability/);
  });
  it("each candidate's Monte Carlo structure has the candidate's closed form (two code paths agree)", () => {
    for (const nodes of [1, 2, 3, 4, 6, 13, 60]) {
      for (const consistency of ['strong', 'eventual'] as const) {
        const a = advise({ nodes, targetAvailability: 0.99, consistency, workload: 'container', nodeAvailability: 0.97 });
        for (const c of a.candidates) {
          const { structure, nodeCount } = candidateStructure(c, consistency);
          const closed = structureAvailability(structure, sameAvailability(nodeCount, 0.97));
          assert.ok(Math.abs(closed - c.availability) < 1e-12, `${nodes} ${consistency} ${c.kind}: ${closed} vs ${c.availability}`);
        }
      }
    }
  });
});
