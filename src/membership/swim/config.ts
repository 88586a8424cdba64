/**
 * SWIM member configuration: every field with its unit and formula, three presets shaped like
 * hashicorp/memberlist's DefaultLANConfig / DefaultWANConfig / DefaultLocalConfig, and
 * cross-field validation. Formulas follow SWIM (Das, Gupta, Motivala, DSN 2002) and Lifeguard
 * (Dadgar, Phillips, Currey, 2018). Leaves out memberlist's TCP fallback probe and its
 * compression: the runtime carries push-pull over TCP, probes stay on UDP.
 */
import { ConfigError } from '../../core/errors.ts';

export interface SwimConfig {
  /**
   * Protocol period T, ms: one probe is started every `probeIntervalMs · (LHM + 1)`
   * (Lifeguard scales it by the local health multiplier). SWIM's expected first-detection time
   * of a crash is `T · e/(e-1)` ≈ 1.58 T.
   */
  probeIntervalMs: number;
  /**
   * Direct-ack timeout, ms: after `probeTimeoutMs · (LHM + 1)` without an ack the member asks
   * `indirectChecks` others to ping-req the target. Must be < probeIntervalMs (the indirect
   * phase needs the rest of the period), ideally about the 99th-percentile round trip.
   */
  probeTimeoutMs: number;
  /** k, members asked to ping-req a target that missed its direct ack (SWIM's k). 0 disables. */
  indirectChecks: number;
  /**
   * Retransmit multiplier λ: each update is piggybacked at most
   * `retransmitMult · ceil(log10(n + 1))` times (n = live members known).
   */
  retransmitMult: number;
  /**
   * Suspicion multiplier α: minimum suspicion timeout
   * `min = suspicionMult · max(1, log10(n)) · probeIntervalMs`; the number of independent
   * confirmations expected is `K = suspicionMult − 2` (0 when n − 2 < K).
   */
  suspicionMult: number;
  /**
   * Lifeguard β: maximum suspicion timeout `max = suspicionMaxTimeoutMult · min`. A fresh
   * suspicion waits `max` and shrinks to
   * `max(min, max − (max − min) · log(C + 1) / log(K + 1))` after C confirmations.
   */
  suspicionMaxTimeoutMult: number;
  /** Local health multiplier cap S: LHM stays in [0, awarenessMaxMultiplier − 1]. 1 disables it. */
  awarenessMaxMultiplier: number;
  /**
   * Lifeguard switch: LHM, dynamic suspicion timeout, buddy system and nacks. False = plain SWIM
   * with suspicion: a suspect is declared dead after the fixed
   * `suspicionMult · max(1, log10(n)) · probeIntervalMs`.
   */
  lifeguard: boolean;
  /** Gossip interval, ms: every interval pending updates go to `gossipNodes` random members. 0 disables. */
  gossipIntervalMs: number;
  /** Members receiving each gossip round (memberlist's GossipNodes). */
  gossipNodes: number;
  /** Dead and left members are still gossiped to, then forgotten, for this long, ms. */
  gossipToTheDeadMs: number;
  /**
   * Push-pull full state exchange interval, ms, at n ≤ 32; above that it grows as
   * `pushPullIntervalMs · (ceil(log2 n − log2 32) + 1)` (memberlist's pushPullScale). 0 disables.
   */
  pushPullIntervalMs: number;
  /**
   * Serf-style reconnect, ms: every interval one random member known as dead (or forgotten as
   * dead less than `reconnectTimeoutMs` ago) is sent a push-pull, so a cluster that fell apart
   * (everyone declared everyone dead in a long partition) finds itself again. 0 disables.
   */
  reconnectIntervalMs: number;
  /** How long the address of a member declared dead is kept for reconnect attempts, ms. */
  reconnectTimeoutMs: number;
  /** Largest UDP packet built or accepted, bytes (payload before encryption overhead). */
  packetBytesMax: number;
  /** Largest push-pull (stream) message built or accepted, bytes. */
  streamBytesMax: number;
  /** Largest node metadata, bytes of UTF-8. */
  metaBytesMax: number;
  /** Limit on updates waiting to be piggybacked; the most-sent are dropped beyond it. */
  broadcastQueueMax: number;
  /** Limit on members tracked (alive + suspect + dead); new names beyond it are ignored. */
  membersMax: number;
  /** Limit on outstanding ping-req forwards this member runs for others. */
  indirectForwardsMax: number;
}

/** memberlist DefaultLANConfig: a single data centre, round trips well under 100 ms. */
export function lanConfig(): SwimConfig {
  return {
    probeIntervalMs: 1000,
    probeTimeoutMs: 500,
    indirectChecks: 3,
    retransmitMult: 4,
    suspicionMult: 4,
    suspicionMaxTimeoutMult: 6,
    awarenessMaxMultiplier: 8,
    lifeguard: true,
    gossipIntervalMs: 200,
    gossipNodes: 3,
    gossipToTheDeadMs: 30_000,
    pushPullIntervalMs: 30_000,
    reconnectIntervalMs: 30_000,
    reconnectTimeoutMs: 24 * 3_600_000,
    packetBytesMax: 1400,
    streamBytesMax: 10 * 1024 * 1024,
    metaBytesMax: 512,
    broadcastQueueMax: 1024,
    membersMax: 10_000,
    indirectForwardsMax: 256,
  };
}

/** memberlist DefaultWANConfig: links between data centres, round trips of hundreds of ms. */
export function wanConfig(): SwimConfig {
  return {
    ...lanConfig(),
    probeIntervalMs: 5000,
    probeTimeoutMs: 3000,
    suspicionMult: 6,
    gossipIntervalMs: 500,
    gossipNodes: 4,
    gossipToTheDeadMs: 60_000,
    pushPullIntervalMs: 60_000,
    reconnectIntervalMs: 60_000,
  };
}

/** memberlist DefaultLocalConfig: one machine or a loopback test, fast detection. */
export function localConfig(): SwimConfig {
  return {
    ...lanConfig(),
    probeIntervalMs: 1000,
    probeTimeoutMs: 200,
    indirectChecks: 1,
    retransmitMult: 2,
    suspicionMult: 3,
    gossipIntervalMs: 100,
    gossipToTheDeadMs: 15_000,
    pushPullIntervalMs: 15_000,
    reconnectIntervalMs: 15_000,
  };
}

/** A faster local preset for tests and demos on loopback: T = 200 ms. */
export function fastConfig(): SwimConfig {
  return {
    ...localConfig(),
    probeIntervalMs: 200,
    probeTimeoutMs: 80,
    indirectChecks: 2,
    gossipIntervalMs: 50,
    gossipToTheDeadMs: 5000,
    pushPullIntervalMs: 3000,
    reconnectIntervalMs: 1000,
    reconnectTimeoutMs: 600_000,
  };
}

export type SwimPreset = 'lan' | 'wan' | 'local' | 'fast';
export const SWIM_PRESETS: readonly SwimPreset[] = ['lan', 'wan', 'local', 'fast'];

export function presetConfig(preset: SwimPreset): SwimConfig {
  switch (preset) {
    case 'lan':
      return lanConfig();
    case 'wan':
      return wanConfig();
    case 'local':
      return localConfig();
    case 'fast':
      return fastConfig();
  }
}

const INT_FIELDS: readonly (keyof SwimConfig)[] = [
  'probeIntervalMs',
  'probeTimeoutMs',
  'indirectChecks',
  'retransmitMult',
  'suspicionMult',
  'suspicionMaxTimeoutMult',
  'awarenessMaxMultiplier',
  'gossipIntervalMs',
  'gossipNodes',
  'gossipToTheDeadMs',
  'pushPullIntervalMs',
  'reconnectIntervalMs',
  'reconnectTimeoutMs',
  'packetBytesMax',
  'streamBytesMax',
  'metaBytesMax',
  'broadcastQueueMax',
  'membersMax',
  'indirectForwardsMax',
];

/** Fills defaults from `base` (LAN when absent) and validates fields against each other. */
export function swimConfig(overrides: Partial<SwimConfig> = {}, base: SwimConfig = lanConfig()): SwimConfig {
  const cfg: SwimConfig = { ...base };
  for (const [k, v] of Object.entries(overrides)) {
    if (v !== undefined) (cfg as unknown as Record<string, unknown>)[k] = v;
  }
  validateSwimConfig(cfg);
  return cfg;
}

export function validateSwimConfig(cfg: SwimConfig): void {
  for (const f of INT_FIELDS) {
    const v = cfg[f];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw new ConfigError(`swim config ${f} must be a non-negative integer, got ${String(v)}`);
    }
  }
  if (typeof cfg.lifeguard !== 'boolean') throw new ConfigError('swim config lifeguard must be a boolean');
  if (cfg.probeIntervalMs < 1) throw new ConfigError('swim config probeIntervalMs must be >= 1');
  if (cfg.probeTimeoutMs < 1 || cfg.probeTimeoutMs >= cfg.probeIntervalMs) {
    throw new ConfigError(
      `swim config probeTimeoutMs (${cfg.probeTimeoutMs}) must be in 1..probeIntervalMs-1 (${cfg.probeIntervalMs - 1}): the indirect probe needs the rest of the period`,
    );
  }
  if (cfg.retransmitMult < 1) throw new ConfigError('swim config retransmitMult must be >= 1');
  if (cfg.suspicionMult < 1) throw new ConfigError('swim config suspicionMult must be >= 1');
  if (cfg.suspicionMaxTimeoutMult < 1) throw new ConfigError('swim config suspicionMaxTimeoutMult must be >= 1 (max >= min)');
  if (cfg.awarenessMaxMultiplier < 1) throw new ConfigError('swim config awarenessMaxMultiplier must be >= 1');
  if (cfg.gossipIntervalMs > 0 && cfg.gossipNodes < 1) {
    throw new ConfigError('swim config gossipNodes must be >= 1 when gossipIntervalMs > 0');
  }
  if (cfg.packetBytesMax < 512 || cfg.packetBytesMax > 65_000) {
    throw new ConfigError(`swim config packetBytesMax must be in 512..65000 (UDP), got ${cfg.packetBytesMax}`);
  }
  if (cfg.metaBytesMax > cfg.packetBytesMax / 2) {
    throw new ConfigError(
      `swim config metaBytesMax (${cfg.metaBytesMax}) must be <= packetBytesMax / 2 (${cfg.packetBytesMax / 2}) so an alive update fits a packet`,
    );
  }
  if (cfg.streamBytesMax < cfg.packetBytesMax) {
    throw new ConfigError('swim config streamBytesMax must be >= packetBytesMax');
  }
  if (cfg.broadcastQueueMax < 1 || cfg.membersMax < 1 || cfg.indirectForwardsMax < 1) {
    throw new ConfigError('swim config broadcastQueueMax, membersMax and indirectForwardsMax must be >= 1');
  }
}

/** `retransmitMult · ceil(log10(n + 1))`: how many times one update is piggybacked. */
export function retransmitLimit(retransmitMult: number, n: number): number {
  return retransmitMult * Math.ceil(Math.log10(n + 1));
}

/** Lifeguard/memberlist suspicion bounds for a cluster of n members, ms. */
export function suspicionBoundsMs(cfg: SwimConfig, n: number): { minMs: number; maxMs: number; expectedConfirmations: number } {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)));
  const minMs = Math.floor(cfg.suspicionMult * nodeScale * cfg.probeIntervalMs);
  const maxMs = cfg.lifeguard ? cfg.suspicionMaxTimeoutMult * minMs : minMs;
  let k = cfg.suspicionMult - 2;
  if (n - 2 < k) k = 0;
  if (!cfg.lifeguard) k = 0;
  return { minMs, maxMs, expectedConfirmations: Math.max(0, k) };
}

/** memberlist's pushPullScale: the interval grows with log2 n above 32 members. */
export function pushPullIntervalFor(intervalMs: number, n: number): number {
  const threshold = 32;
  if (n <= threshold) return intervalMs;
  const multiplier = Math.ceil(Math.log2(n) - Math.log2(threshold)) + 1;
  return intervalMs * multiplier;
}
