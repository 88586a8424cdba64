/**
 * Seed 04.3.4, measured beside modelled: runs `runClusterAvailability` (independent fail/repair
 * of every node, exponential up/down times) for each topology and puts the measured fractions
 * next to the seed's closed forms (central `A_M·ΠA_w`, hybrid `(1-Π(1-A_m))·ΠA_w`, distributed
 * `1-Π(1-A)`) and the quorum-aware ones (a majority of the masters, at least k of n workers,
 * k = the fewest workers that hold the desired state), with `A = MTBF / (MTBF + MTTR)`.
 * Used by `clusterkit cluster availability` and `bench/scheduler.ts`.
 */
import { ConfigError } from '../core/errors.ts';
import { atLeastKOfN, availabilityFromMtbf, centralAvailability, hybridAvailability, hybridQuorumAvailability, majorityQuorumAvailability, replicationAvailability, sameAvailability } from '../models/availability.ts';
import { ClusterState } from '../scheduler/state.ts';
import type { SchedulerConfig } from '../scheduler/types.ts';
import { defaultWorkloads, runClusterAvailability, type Topology, WORKER_CAPACITY } from './cluster-scenario.ts';

export interface AvailabilityComparisonOptions {
  topologies: readonly Topology[];
  /** Workers (central, hybrid) or peers (distributed). */
  workers: number;
  /** Masters of the hybrid topology. */
  masters: number;
  mtbfMs: number;
  mttrMs: number;
  /** Virtual ms measured per seed. */
  durationMs: number;
  seeds: number;
  config?: Partial<SchedulerConfig>;
}

export interface AvailabilityComparisonRow {
  topology: Topology;
  /** Technologies this topology stands for (seed 04.8). */
  standsFor: string;
  measuredService: number;
  seedFormula: number;
  quorumAware: number;
  measuredControlPlane: number;
  modelControlPlane: number;
  measuredAllUp: number;
  modelAllUp: number;
  duplicateTaskSeconds: number;
  failures: number;
}

export const STANDS_FOR: Readonly<Record<Topology, string>> = {
  central: 'Kubernetes with one control-plane node, K3s single server, vCenter / OpenStack Nova (04.2.1, 04.3.1)',
  hybrid: 'Kubernetes HA (stacked etcd), K3s servers with embedded etcd (04.3.3)',
  distributed: 'etcd and Consul clusters as peers (04.3.2); Serf/memberlist gossip membership with hash-based ownership (Dynamo, Cassandra)',
};

/** Fewest workers that hold the whole default desired state (spread, placed from scratch). */
export function workersNeeded(workers: number): number {
  for (let k = 1; k <= workers; k++) {
    const s = new ClusterState();
    for (const w of defaultWorkloads(workers)) s.apply({ c: 'put', workload: w });
    const live = Array.from({ length: k }, (_, i) => ({ id: `w${i + 1}`, capacity: WORKER_CAPACITY }));
    for (const c of s.plan(live, 'spread')) s.apply(c);
    if ([...s.tasks.values()].every((w) => w !== null)) return k;
  }
  return workers;
}

export function compareClusterAvailability(o: AvailabilityComparisonOptions): { nodeAvailability: number; workersNeeded: number; rows: AvailabilityComparisonRow[] } {
  if (!Number.isSafeInteger(o.seeds) || o.seeds < 1) throw new ConfigError(`seeds must be a positive integer, got ${o.seeds}`);
  const A = availabilityFromMtbf(o.mtbfMs, o.mttrMs);
  const k = workersNeeded(o.workers);
  const W = sameAvailability(o.workers, A);
  const M = sameAvailability(o.masters, A);
  const rows: AvailabilityComparisonRow[] = [];
  for (const topology of o.topologies) {
    let service = 0;
    let control = 0;
    let allUp = 0;
    let dup = 0;
    let failures = 0;
    for (let seed = 1; seed <= o.seeds; seed++) {
      const r = runClusterAvailability({
        topology,
        seed,
        workers: o.workers,
        masters: topology === 'central' ? 1 : o.masters,
        mtbfMs: o.mtbfMs,
        mttrMs: o.mttrMs,
        durationMs: o.durationMs,
        ...(o.config !== undefined ? { config: o.config } : {}),
      });
      service += r.serviceAvailability / o.seeds;
      control += r.controlPlaneAvailability / o.seeds;
      allUp += r.allNodesUpFraction / o.seeds;
      dup += r.duplicateTaskMs / 1000;
      failures += r.failures;
    }
    const common = { topology, standsFor: STANDS_FOR[topology], measuredService: service, measuredControlPlane: control, measuredAllUp: allUp, duplicateTaskSeconds: dup, failures };
    if (topology === 'central') {
      rows.push({ ...common, seedFormula: centralAvailability(A, W), quorumAware: A * atLeastKOfN(W, k), modelControlPlane: A, modelAllUp: A ** (o.workers + 1) });
    } else if (topology === 'hybrid') {
      rows.push({
        ...common,
        seedFormula: hybridAvailability(M, W),
        quorumAware: hybridQuorumAvailability({ masterAvailabilities: M, workerAvailabilities: W, workersNeeded: k }),
        modelControlPlane: majorityQuorumAvailability(M),
        modelAllUp: A ** (o.workers + o.masters),
      });
    } else {
      const any = replicationAvailability(W);
      rows.push({ ...common, seedFormula: any, quorumAware: any, modelControlPlane: any, modelAllUp: A ** o.workers });
    }
  }
  return { nodeAvailability: A, workersNeeded: k, rows };
}
