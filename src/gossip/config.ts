/**
 * Configuration of epidemic dissemination (Demers, Greene, Hauser, Irish, Larson, Shenker,
 * Sturgis, Swinehart, Terry 1987, "Epidemic algorithms for replicated database maintenance";
 * Karp, Schindelhauer, Shenker, Vöcking 2000, "Randomized rumor spreading"). Every field says its
 * unit; `validateRumorConfig` checks fields against each other.
 */
import { ConfigError } from '../core/errors.ts';

/** Who carries a rumor across a contact: the caller (push), the callee (pull), or both. */
export type GossipMode = 'push' | 'pull' | 'push-pull';

/**
 * When a node loses interest in a rumor (stops being "infective"). With `feedback` a contact is
 * "unnecessary" when the partner already knew the rumor; without feedback (blind) every contact
 * counts.
 * - counter: stop after k counted contacts (Demers' counter variant).
 * - coin: stop with probability 1/k after each counted contact (Demers' coin variant).
 * - rounds: stop `rounds` rounds after learning the rumor, whatever the contacts (Karp et al.'s
 *   age counter; also what memberlist's retransmit limit does). A large value means "never".
 */
export type StopRule = { kind: 'counter'; k: number } | { kind: 'coin'; k: number } | { kind: 'rounds'; rounds: number };

export interface RumorConfig {
  mode: GossipMode;
  stop: StopRule;
  /** Whether the partner tells the sender which rumors it already knew (Demers' feedback variant). */
  feedback: boolean;
  /** Partners contacted per round (1 in Demers' and Karp's analyses). */
  fanout: number;
  /** Round length for hosts that drive `tick()` from a timer (ms). Not used by the core itself. */
  roundIntervalMs: number;
  /** Hot (still spreading) rumors buffered per node; a new rumor beyond this evicts the oldest hot one. */
  rumorsMax: number;
  /** Rumor ids remembered for deduplication; older ids are forgotten first (FIFO). Must be >= rumorsMax. */
  knownMax: number;
  /** Rumors carried by one message; the least-sent rumors go first. */
  rumorsPerMessageMax: number;
  /**
   * Whether a rumor learned since this node's last tick is already served in replies (pull,
   * push-pull). True lets it travel on at once (best in a real deployment); false holds it until
   * the next tick, which is the round-synchronous model of the papers (no two hops in one round);
   * the round driver uses false.
   */
  serveFresh: boolean;
}

export const RUMOR_DEFAULTS: RumorConfig = {
  mode: 'push-pull',
  stop: { kind: 'counter', k: 3 },
  feedback: true,
  fanout: 1,
  roundIntervalMs: 200,
  rumorsMax: 1024,
  knownMax: 65_536,
  rumorsPerMessageMax: 64,
  serveFresh: true,
};

export function validateRumorConfig(c: RumorConfig): RumorConfig {
  const positiveInt = (name: string, v: number) => {
    if (!Number.isSafeInteger(v) || v < 1) throw new ConfigError(`gossip ${name} must be an integer >= 1, got ${v}`);
  };
  positiveInt('fanout', c.fanout);
  positiveInt('rumorsMax', c.rumorsMax);
  positiveInt('knownMax', c.knownMax);
  positiveInt('rumorsPerMessageMax', c.rumorsPerMessageMax);
  if (!(c.roundIntervalMs > 0)) throw new ConfigError(`gossip roundIntervalMs must be > 0 ms, got ${c.roundIntervalMs}`);
  if (c.knownMax < c.rumorsMax) {
    throw new ConfigError(`gossip knownMax (${c.knownMax}) must be >= rumorsMax (${c.rumorsMax}): a hot rumor must stay known`);
  }
  switch (c.stop.kind) {
    case 'counter':
    case 'coin':
      positiveInt(`stop.k (${c.stop.kind})`, c.stop.k);
      break;
    case 'rounds':
      positiveInt('stop.rounds', c.stop.rounds);
      break;
  }
  if (c.mode !== 'push' && c.mode !== 'pull' && c.mode !== 'push-pull') {
    throw new ConfigError(`gossip mode must be push, pull or push-pull, got ${String(c.mode)}`);
  }
  return c;
}
