/**
 * A simulation run in two phases (TigerBeetle's VOPR): a safety phase with the nemesis on and
 * invariants checked after every event, then a liveness phase with every fault healed, in which
 * the system must converge within a bound. Failures throw `SimFailure` with the seed and the
 * replay command the simulator was given.
 */
import type { Nemesis } from './nemesis.ts';
import type { Simulator } from './simulator.ts';

export interface PhaseOptions<M> {
  sim: Simulator<M>;
  nemesis?: Nemesis<M>;
  /** Virtual ms of the safety phase (faults on). */
  safetyMs: number;
  /** Virtual ms the liveness phase may take at most. */
  livenessMs: number;
  /** True when the system has converged (leader elected and committing, replicas equal, ...). */
  converged: () => boolean;
  /** What "converged" means, for the failure message. */
  convergedDescription?: string;
}

export interface PhaseResult {
  seed: number;
  safetyEndMs: number;
  /** Virtual ms the liveness phase took to converge. */
  convergeMs: number;
  events: number;
}

export function runPhases<M>(opts: PhaseOptions<M>): PhaseResult {
  const { sim, nemesis } = opts;
  nemesis?.start();
  sim.runFor(opts.safetyMs);
  nemesis?.stop();
  nemesis?.healAll();
  const safetyEndMs = sim.now();
  const ok = sim.runUntil(opts.converged, opts.livenessMs);
  if (!ok) {
    throw sim.failure(
      `liveness: did not converge (${opts.convergedDescription ?? 'converged() stayed false'}) within ${opts.livenessMs} ms after faults healed`,
    );
  }
  return { seed: sim.seed, safetyEndMs, convergeMs: sim.now() - safetyEndMs, events: sim.stats.events };
}
