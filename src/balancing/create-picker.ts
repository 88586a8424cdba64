/**
 * `createPicker(policy)`: one place that maps a policy name (or alias) to its picker, used by
 * the proxy, the client and the CLI. Unknown names raise a `ConfigError` listing the choices.
 */
import type { Clock } from '../core/clock.ts';
import { ConfigError } from '../core/errors.ts';
import type { Rng } from '../core/rng.ts';
import { unreachable } from '../core/assert.ts';
import { ConsistentHashPicker } from './consistent-hash.ts';
import { EdfPicker } from './edf.ts';
import type { KeyRingFactory } from './key-ring.ts';
import { LeastConnectionsPicker } from './least-connections.ts';
import { P2cPicker, type P2cOptions } from './p2c.ts';
import { PeakEwmaPicker, type PeakEwmaOptions } from './peak-ewma.ts';
import { RandomPicker } from './random.ts';
import { RoundRobinPicker } from './round-robin.ts';
import { POLICIES, POLICY_ALIASES, type Picker, type Policy } from './types.ts';
import { WeightedRoundRobinPicker, type WeightedRoundRobinOptions } from './weighted-round-robin.ts';

export interface PickerDeps {
  readonly rng: Rng;
  readonly clock: Clock;
  readonly p2c?: P2cOptions;
  readonly peakEwma?: PeakEwmaOptions;
  readonly weightedRoundRobin?: WeightedRoundRobinOptions;
  readonly keyRing?: KeyRingFactory;
}

/** Resolves a policy name or alias; throws `ConfigError` naming the valid choices. */
export function parsePolicy(name: string, what = 'policy'): Policy {
  const lower = name.trim().toLowerCase();
  if ((POLICIES as readonly string[]).includes(lower)) return lower as Policy;
  const alias = POLICY_ALIASES[lower];
  if (alias !== undefined) return alias;
  throw new ConfigError(
    `unknown ${what} ${JSON.stringify(name)}: use one of ${POLICIES.join(', ')} (aliases: ${Object.keys(POLICY_ALIASES).join(', ')})`,
  );
}

export function createPicker(policy: Policy, deps: PickerDeps): Picker {
  switch (policy) {
    case 'round-robin':
      return new RoundRobinPicker();
    case 'weighted-round-robin':
      return new WeightedRoundRobinPicker(deps.weightedRoundRobin);
    case 'edf':
      return new EdfPicker();
    case 'least-connections':
      return new LeastConnectionsPicker();
    case 'p2c':
      return new P2cPicker(deps.rng.fork('p2c'), deps.p2c);
    case 'random':
      return new RandomPicker(deps.rng.fork('random'));
    case 'consistent-hash':
      return new ConsistentHashPicker(deps.rng.fork('consistent-hash'), deps.keyRing);
    case 'peak-ewma':
      return new PeakEwmaPicker(deps.rng.fork('peak-ewma'), deps.clock, deps.peakEwma);
    default:
      return unreachable(policy, 'policy');
  }
}
