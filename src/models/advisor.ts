/**
 * The advisor: maps requirements (machines, target availability, consistency need, scale,
 * latency budget, workload kind) to a cluster topology, a consistency model and protocol, a
 * discovery model and a load-balancing model, named with the technologies seed 04.8 maps them
 * to (Kubernetes, K3s, etcd, Consul, CoreDNS, Service, Ingress, vCenter, OpenStack Nova, ...).
 *
 * It follows the seed's selection rules (04.8 "技术选择依据": large → Kubernetes, small → K3s,
 * strong consistency → Raft/etcd, eventual acceptable → gossip/Consul, ...) but decides the
 * topology by computing each candidate's availability with the quorum-aware model, shows the
 * seed's formula beside it, and explains every choice. Candidates: centralized (one master),
 * stacked (every machine a peer; the replicated store on up to 7 of them), hybrid with 3 or 5
 * dedicated masters. Left out: cost models, multi-region placement, and measured latencies
 * (the discovery figures come from discovery.ts with inputs the caller can override).
 */
import { InvalidArgumentError } from '../core/errors.ts';
import { unreachable } from '../core/assert.ts';
import {
  atLeastKOfN,
  centralAvailability,
  checkCount,
  checkProbability,
  hybridAvailability,
  majorityOf,
  parallelAvailability,
  replicationAvailability,
  sameAvailability,
  stackedQuorumAvailability,
} from './availability.ts';
import type { AvailabilityStructure } from './monteCarlo.ts';
import { compareDiscovery, DEFAULT_DISCOVERY_INPUTS, type DiscoveryInputs, type DiscoveryModel } from './discovery.ts';

export const CONSISTENCY_NEEDS = ['strong', 'eventual', 'causal'] as const;
export type ConsistencyNeed = (typeof CONSISTENCY_NEEDS)[number];
export const ADVISOR_WORKLOADS = ['vm', 'container', 'sandbox'] as const;
export type WorkloadKind = (typeof ADVISOR_WORKLOADS)[number];
export const ADVISOR_SCALES = ['small', 'large'] as const;
export type ClusterScale = (typeof ADVISOR_SCALES)[number];

/** Above this many machines the advisor treats a cluster as large when no scale is given. */
export const LARGE_CLUSTER_NODES_MIN = 50;
/** Most voters worth running in one Raft group: more slows every commit (etcd's own advice is 3–7). */
export const RAFT_VOTERS_MAX = 7;
export const ADVISOR_NODES_MAX = 100_000;

export interface AdvisorRequirements {
  /** Machines available for the whole cluster (control plane and workloads). */
  readonly nodes: number;
  /** Target availability of the service, in (0, 1). */
  readonly targetAvailability: number;
  readonly consistency: ConsistencyNeed;
  readonly workload: WorkloadKind;
  /** Small or large cluster; derived from `nodes` when absent. */
  readonly scale?: ClusterScale;
  /** Budget for discovery + balancing per request, in ms. */
  readonly latencyBudgetMs?: number;
  /** Availability of one machine; default 0.99. */
  readonly nodeAvailability?: number;
  /** Fraction of workload machines that must be up to carry the load; default 0.8. */
  readonly capacityNeeded?: number;
  /** Inputs for the discovery latency model; defaults from discovery.ts. */
  readonly discoveryInputs?: DiscoveryInputs;
}

export type TopologyCandidateKind = 'centralized' | 'stacked' | 'hybrid-3' | 'hybrid-5';

export interface TopologyCandidate {
  readonly kind: TopologyCandidateKind;
  /** Seed model and section. */
  readonly seedModel: string;
  readonly dedicatedMasters: number;
  /** Machines in the replicated control-plane store (Raft voters for strong consistency). */
  readonly controlPlaneVoters: number;
  readonly workers: number;
  readonly workersNeeded: number;
  /** The seed's formula for this topology (every worker required; any master suffices). */
  readonly seedAvailability: number;
  readonly seedFormula: string;
  /** Quorum-aware availability: what the recommendation is based on. */
  readonly availability: number;
  readonly formula: string;
  readonly meetsTarget: boolean;
  /** False when the candidate is possible but ill-suited (stated in `notes`). */
  readonly suitable: boolean;
  readonly technologies: readonly string[];
  readonly notes: readonly string[];
}

export interface AdvisorChoice {
  readonly model: string;
  readonly technologies: readonly string[];
  readonly reasons: readonly string[];
}

export interface Advice {
  readonly requirements: Required<Omit<AdvisorRequirements, 'discoveryInputs' | 'latencyBudgetMs'>> & { readonly latencyBudgetMs?: number };
  readonly candidates: readonly TopologyCandidate[];
  /** The chosen candidate, or undefined if none reaches the target. */
  readonly topology?: TopologyCandidate;
  /** Best availability any candidate reaches (for "impossible target" messages). */
  readonly bestAvailability: number;
  /** Why the topology was chosen (or why none was). */
  readonly topologyReasons: readonly string[];
  readonly consistency: AdvisorChoice;
  readonly discovery: AdvisorChoice & { readonly perRequestMs: number };
  readonly loadBalancing: AdvisorChoice;
  readonly warnings: readonly string[];
}

function largestOddAtMost(n: number): number {
  return n % 2 === 1 ? n : n - 1;
}

function topologyTechnologies(kind: TopologyCandidateKind, workload: WorkloadKind, scale: ClusterScale): string[] {
  switch (workload) {
    case 'vm':
      switch (kind) {
        case 'centralized':
          return ['vCenter', 'OpenStack Nova (single controller)'];
        case 'stacked':
          return ['OpenStack Nova (controller services on every node)'];
        case 'hybrid-3':
        case 'hybrid-5':
          return ['OpenStack Nova (HA controllers)', 'vCenter HA'];
        default:
          return unreachable(kind, 'candidate');
      }
    case 'container':
    case 'sandbox': {
      const distro = workload === 'sandbox' || scale === 'small' ? 'K3s' : 'Kubernetes';
      switch (kind) {
        case 'centralized':
          return distro === 'K3s' ? ['K3s (one server + agents)'] : ['Kubernetes (one control-plane node + workers)'];
        case 'stacked':
          return distro === 'K3s' ? ['K3s (HA servers with embedded etcd, servers run workloads)'] : ['Kubernetes (stacked etcd on nodes that also run workloads)'];
        case 'hybrid-3':
        case 'hybrid-5': {
          const m = kind === 'hybrid-3' ? 3 : 5;
          return distro === 'K3s' ? [`K3s (${m} servers with embedded etcd + agents)`] : [`Kubernetes HA (${m} control-plane nodes, etcd) + workers`];
        }
        default:
          return unreachable(kind, 'candidate');
      }
    }
    default:
      return unreachable(workload, 'workload');
  }
}

function buildCandidates(req: Required<Omit<AdvisorRequirements, 'discoveryInputs' | 'latencyBudgetMs'>>): TopologyCandidate[] {
  const { nodes: n, nodeAvailability: a, capacityNeeded, consistency, workload, scale, targetAvailability } = req;
  const strong = consistency === 'strong';
  const rule = strong ? 'majority' : 'any';
  const out: TopologyCandidate[] = [];
  const seedMasterRule = strong ? 'P(up masters > |M|/2)' : '1 - Π(1 - A_mi)';
  const add = (c: Omit<TopologyCandidate, 'meetsTarget' | 'technologies'>) => {
    out.push({ ...c, meetsTarget: c.availability >= targetAvailability, technologies: topologyTechnologies(c.kind, workload, scale) });
  };
  // Centralized: one master, the rest workers (a single machine is its own worker).
  {
    const workers = Math.max(n - 1, n === 1 ? 1 : 0);
    const needed = Math.ceil(capacityNeeded * workers);
    const availability = n === 1 ? a : a * atLeastKOfN(sameAvailability(workers, a), needed);
    add({
      kind: 'centralized',
      seedModel: 'centralized / master–slave (04.2.1, 04.3.1)',
      dedicatedMasters: n === 1 ? 0 : 1,
      controlPlaneVoters: 1,
      workers,
      workersNeeded: needed,
      seedAvailability: n === 1 ? a : centralAvailability(a, sameAvailability(workers, a)),
      seedFormula: 'A_M · Π A_wi',
      availability,
      formula: 'A_M · P(up workers ≥ m)',
      suitable: true,
      notes: ['the single master is a single point of failure: while it is down nothing can be scheduled or changed'],
    });
  }
  // Stacked: every machine runs workloads; the store is replicated on up to 7 of them.
  if (n >= 3) {
    const voters = strong ? Math.min(largestOddAtMost(n), RAFT_VOTERS_MAX) : n;
    const needed = Math.ceil(capacityNeeded * n);
    const notes = [
      strong
        ? `the replicated store runs on ${voters} of the ${n} machines (Raft needs a majority: ${majorityOf(voters)} of ${voters})`
        : 'every machine holds a full copy of the cluster state, replicated by gossip; any one up can serve it',
    ];
    const suitable = !(strong && scale === 'large');
    if (!suitable) notes.push('at large scale the control plane should not compete with workloads for CPU, memory and disk');
    add({
      kind: 'stacked',
      seedModel: 'distributed cluster / P2P (04.2.2, 04.3.2)',
      dedicatedMasters: 0,
      controlPlaneVoters: voters,
      workers: n,
      workersNeeded: needed,
      seedAvailability: replicationAvailability(sameAvailability(n, a)),
      seedFormula: '1 - Π(1 - A_i)',
      availability: stackedQuorumAvailability({
        voterAvailabilities: sameAvailability(voters, a),
        otherAvailabilities: sameAvailability(n - voters, a),
        nodesNeeded: needed,
        voterRule: rule,
      }),
      formula: strong ? 'P(up voters > v/2 and up machines ≥ m)' : 'P(up machines ≥ max(1, m))',
      suitable,
      notes,
    });
  }
  for (const masters of [3, 5] as const) {
    if (n < masters + 1) continue;
    const workers = n - masters;
    const needed = Math.ceil(capacityNeeded * workers);
    const masterAs = sameAvailability(masters, a);
    const control = strong ? atLeastKOfN(masterAs, majorityOf(masters)) : parallelAvailability(masterAs);
    add({
      kind: masters === 3 ? 'hybrid-3' : 'hybrid-5',
      seedModel: 'hybrid cluster (04.3.3)',
      dedicatedMasters: masters,
      controlPlaneVoters: masters,
      workers,
      workersNeeded: needed,
      seedAvailability: hybridAvailability(masterAs, sameAvailability(workers, a)),
      seedFormula: '(1 - Π(1 - A_mi)) · Π A_wj',
      availability: control * atLeastKOfN(sameAvailability(workers, a), needed),
      formula: `${seedMasterRule} · P(up workers ≥ m)`,
      suitable: true,
      notes: [
        strong
          ? `${masters} masters tolerate ${masters - majorityOf(masters)} failure(s): Raft needs ${majorityOf(masters)} of ${masters}`
          : `${masters} masters, any one of which can serve`,
      ],
    });
  }
  return out;
}

function consistencyChoice(need: ConsistencyNeed, workload: WorkloadKind): AdvisorChoice {
  switch (need) {
    case 'strong':
      return {
        model: 'strong consistency (linearizable), Raft consensus (04.6.1, 04.6.4)',
        technologies: workload === 'vm' ? ['etcd', 'ZooKeeper'] : ['etcd', 'Consul (Raft mode)'],
        reasons: [
          'a strong-consistency need means every read sees the latest committed write: a majority must acknowledge each write',
          'seed 04.8: 强一致性需求 → Raft 算法（etcd）',
          'writes pay about one round trip to a majority plus an fsync; the store stops accepting writes when a majority is down',
        ],
      };
    case 'eventual':
      return {
        model: 'eventual consistency, gossip dissemination + CRDTs (04.6.2, 04.6.6)',
        technologies: workload === 'vm' ? ['MySQL Replication', 'Consul (gossip)'] : ['Consul (gossip)', 'Cassandra'],
        reasons: [
          'replicas accept writes independently and converge; any single replica can serve, so availability is "at least one up"',
          'seed 04.8: 最终一致性可接受 → Gossip 协议（Consul）',
          'gossip reaches all n nodes in about log2(n) + ln(n) rounds (push)',
        ],
      };
    case 'causal':
      return {
        model: 'causal consistency, vector clocks / logical clocks (04.6.3)',
        technologies: ['vector clocks with causal broadcast', 'Consul (gossip) for membership'],
        reasons: [
          'operations that depend on each other are seen in order everywhere; independent ones may be seen in any order',
          'causal consistency stays available under partitions (no majority needed), unlike strong consistency',
        ],
      };
    default:
      return unreachable(need, 'consistency');
  }
}

function discoveryChoice(req: AdvisorRequirements, workload: WorkloadKind): AdvisorChoice & { perRequestMs: number } {
  const rows = compareDiscovery(req.discoveryInputs ?? DEFAULT_DISCOVERY_INPUTS);
  const byModel = new Map(rows.map((r) => [r.model, r] as const));
  const preferred: DiscoveryModel = 'registry';
  const budget = req.latencyBudgetMs;
  const reasons: string[] = ['seed 04.8: 服务发现需求 → 服务注册表模型（etcd、Consul）'];
  let model: DiscoveryModel = preferred;
  const pref = byModel.get(preferred);
  if (budget !== undefined && pref && pref.perRequestMs > budget) {
    const cheapest = [...rows].sort((x, y) => x.perRequestMs - y.perRequestMs)[0];
    if (cheapest) model = cheapest.model;
    reasons.push(`the registry model's ${fmtMs(pref.perRequestMs)} per request exceeds the ${fmtMs(budget)} budget`);
  }
  const row = byModel.get(model);
  const perRequestMs = row?.perRequestMs ?? 0;
  reasons.push(`modelled per-request cost: ${fmtMs(perRequestMs)} (L_query + L_select, 04.5.4); registration ${fmtMs(row?.registerMs ?? 0)} once per instance`);
  if (budget !== undefined && perRequestMs > budget) reasons.push(`no discovery model fits the ${fmtMs(budget)} budget under these inputs`);
  const technologies =
    workload === 'vm'
      ? ['OpenStack Service Discovery', 'Consul']
      : model === 'client-side'
        ? ['Kubernetes Service (ClusterIP, endpoints watched by the client)', 'Consul Client']
        : workload === 'sandbox'
          ? ['Service', 'CoreDNS']
          : ['Kubernetes Service', 'CoreDNS', 'etcd'];
  if (workload !== 'vm') reasons.push('seed 04.5.4: Kubernetes Service < 1 ms, CoreDNS < 10 ms');
  return { model: `${model} discovery (04.5.${model === 'client-side' ? 1 : model === 'server-side' ? 2 : 3})`, technologies, reasons, perRequestMs };
}

function loadBalancingChoice(workload: WorkloadKind, scale: ClusterScale, budgetMs: number | undefined, lbHopMs: number): AdvisorChoice {
  const tight = budgetMs !== undefined && budgetMs < 2 * lbHopMs;
  const algorithm = 'round robin by default, least connections for long-lived connections, consistent hashing for session affinity (04.7.4)';
  switch (workload) {
    case 'vm':
      return tight
        ? {
            model: 'client-side load balancing (04.7.3)',
            technologies: ['Ribbon-style client library'],
            reasons: [`a ${fmtMs(budgetMs ?? 0)} budget leaves no room for an extra hop through a load balancer (${fmtMs(lbHopMs)})`, algorithm],
          }
        : {
            model: 'centralized load balancing (04.7.1)',
            technologies: ['Load Balancer (VM level)', 'Nginx', 'HAProxy'],
            reasons: ['seed 04.8: 虚拟化 → Load Balancer（VM级别，集中式负载均衡）', 'run the balancer as an active/passive pair: a single one is a single point of failure', algorithm],
          };
    case 'container':
    case 'sandbox':
      return {
        model: 'client-side (east-west) + distributed (north-south) load balancing (04.7.3, 04.7.2)',
        technologies: workload === 'sandbox' || scale === 'small' ? ['Service (iptables/IPVS)', 'Ingress (Traefik in K3s)'] : ['Service (iptables/IPVS)', 'Ingress'],
        reasons: [
          'seed 04.8: Service（iptables/IPVS，客户端负载均衡）、Ingress（分布式负载均衡）',
          'in-cluster traffic is balanced on the calling node with no extra hop; external traffic enters through several Ingress replicas, so no balancer is a single point of failure',
          algorithm,
        ],
      };
    default:
      return unreachable(workload, 'workload');
  }
}

function fmtMs(ms: number): string {
  return `${Number(ms.toPrecision(3))} ms`;
}

/** Recommends a topology, consistency model, discovery and load balancing for the requirements. */
export function advise(requirements: AdvisorRequirements): Advice {
  checkCount('nodes', requirements.nodes, 1, ADVISOR_NODES_MAX);
  const t = requirements.targetAvailability;
  if (!Number.isFinite(t) || t <= 0 || t >= 1) throw new InvalidArgumentError(`targetAvailability must be in (0, 1), got ${t}`);
  const nodeAvailability = requirements.nodeAvailability ?? 0.99;
  checkProbability('nodeAvailability', nodeAvailability);
  const capacityNeeded = requirements.capacityNeeded ?? 0.8;
  if (!Number.isFinite(capacityNeeded) || capacityNeeded <= 0 || capacityNeeded > 1) {
    throw new InvalidArgumentError(`capacityNeeded must be in (0, 1], got ${capacityNeeded}`);
  }
  if (requirements.latencyBudgetMs !== undefined && !(requirements.latencyBudgetMs >= 0)) {
    throw new InvalidArgumentError(`latencyBudgetMs must be a non-negative number, got ${requirements.latencyBudgetMs}`);
  }
  const scale: ClusterScale = requirements.scale ?? (requirements.nodes > LARGE_CLUSTER_NODES_MIN ? 'large' : 'small');
  const req = {
    nodes: requirements.nodes,
    targetAvailability: t,
    consistency: requirements.consistency,
    workload: requirements.workload,
    scale,
    nodeAvailability,
    capacityNeeded,
  };
  const candidates = buildCandidates(req);
  const ranked = [...candidates].sort(
    (x, y) =>
      Number(y.meetsTarget && y.suitable) - Number(x.meetsTarget && x.suitable) ||
      Number(y.meetsTarget) - Number(x.meetsTarget) ||
      x.dedicatedMasters - y.dedicatedMasters ||
      y.availability - x.availability,
  );
  const chosen = ranked[0]?.meetsTarget ? ranked[0] : undefined;
  const bestAvailability = Math.max(...candidates.map((c) => c.availability));
  const warnings: string[] = [];
  if (chosen && !chosen.suitable) warnings.push(`only the ${chosen.kind} topology reaches the target, and it is ill-suited: ${chosen.notes.join('; ')}`);
  if (nodeAvailability <= 0.5 && requirements.consistency === 'strong') {
    warnings.push('with machines up at most half the time, adding Raft voters lowers availability');
  }
  for (const c of candidates) {
    const seedMeets = c.seedAvailability >= t;
    if (seedMeets !== c.meetsTarget) {
      warnings.push(
        `${c.kind}: the seed's ${c.seedFormula} gives ${c.seedAvailability.toPrecision(6)}, which ${seedMeets ? 'meets' : 'misses'} the target, but the quorum-aware ${c.formula} gives ${c.availability.toPrecision(6)}, which ${c.meetsTarget ? 'meets' : 'misses'} it: the seed assumes ${c.kind === 'stacked' ? 'any one machine can serve everything' : 'every worker is required and any master suffices'}`,
      );
    }
  }
  const topologyReasons: string[] = [];
  if (chosen) {
    topologyReasons.push(
      `availability ${chosen.availability.toPrecision(6)} ≥ target ${t} (${chosen.formula}, ${chosen.workersNeeded} of ${chosen.workers} workload machines needed)`,
    );
    const cheaper = candidates.filter((c) => c.dedicatedMasters < chosen.dedicatedMasters);
    for (const c of cheaper) {
      topologyReasons.push(`${c.kind} (${c.dedicatedMasters} dedicated masters) ${c.meetsTarget ? 'is ill-suited here' : `reaches only ${c.availability.toPrecision(6)}`}`);
    }
    topologyReasons.push(
      `the seed's ${chosen.seedFormula} would give ${chosen.seedAvailability.toPrecision(6)} for the same machines`,
      scale === 'large'
        ? 'seed 04.8 names Kubernetes for large clusters (大规模集群 → 分布式集群模型（Kubernetes）); the topology itself is chosen by the availability computed above'
        : 'seed 04.8 names K3s for small clusters (小规模集群 → 混合集群模型（K3s）); the topology itself is chosen by the availability computed above',
      ...chosen.notes,
    );
  } else {
    topologyReasons.push(`no candidate reaches ${t}; the best is ${bestAvailability.toPrecision(6)}: add machines, raise machine availability or lower the capacity needed`);
  }
  const budget = requirements.latencyBudgetMs;
  const discovery = discoveryChoice(requirements, requirements.workload);
  const lbHopMs = (requirements.discoveryInputs ?? DEFAULT_DISCOVERY_INPUTS).lbHopMs;
  const base = {
    requirements: budget === undefined ? req : { ...req, latencyBudgetMs: budget },
    candidates,
    bestAvailability,
    topologyReasons,
    consistency: consistencyChoice(requirements.consistency, requirements.workload),
    discovery,
    loadBalancing: loadBalancingChoice(requirements.workload, scale, budget, lbHopMs),
    warnings,
  };
  return chosen ? { ...base, topology: chosen } : base;
}

/**
 * The Monte Carlo structure equivalent to a candidate (nodes numbered masters/voters first), so
 * its availability can be checked by simulation: `structureAvailability(structure, nodes)` equals
 * `candidate.availability` for identical machines.
 */
export function candidateStructure(candidate: TopologyCandidate, consistency: ConsistencyNeed): { structure: AvailabilityStructure; nodeCount: number } {
  const rule = consistency === 'strong' ? 'majority' : 'any';
  switch (candidate.kind) {
    case 'centralized':
      return candidate.dedicatedMasters === 0
        ? { structure: { kind: 'series' }, nodeCount: 1 }
        : { structure: { kind: 'hybrid', masters: 1, masterRule: 'all', workersNeeded: candidate.workersNeeded }, nodeCount: 1 + candidate.workers };
    case 'stacked':
      return {
        structure: { kind: 'stacked', voters: candidate.controlPlaneVoters, voterRule: rule, nodesNeeded: candidate.workersNeeded },
        nodeCount: candidate.workers,
      };
    case 'hybrid-3':
    case 'hybrid-5':
      return {
        structure: { kind: 'hybrid', masters: candidate.dedicatedMasters, masterRule: rule, workersNeeded: candidate.workersNeeded },
        nodeCount: candidate.dedicatedMasters + candidate.workers,
      };
    default:
      return unreachable(candidate.kind, 'candidate');
  }
}
