/**
 * Load balancing (seed 04.7): pickers, the health-aware `Balancer`, retry budgets and the
 * client-side balancing HTTP client.
 */
export type { BalancerEvent, BalancerOptions, EndpointSpec } from './balancer.ts';
export { BalancedEndpoint, Balancer } from './balancer.ts';
export type { PickerDeps } from './create-picker.ts';
export { createPicker, parsePolicy } from './create-picker.ts';
export { ConsistentHashPicker } from './consistent-hash.ts';
export { EdfPicker } from './edf.ts';
export { EdfScheduler } from './edf-scheduler.ts';
export type { HealthThresholds } from './health.ts';
export { HealthTracker } from './health.ts';
export type { KeyRing, KeyRingFactory, KeyRingNode, VirtualNodeRingOptions } from './key-ring.ts';
export { hash32, VirtualNodeRing, virtualNodeRing } from './key-ring.ts';
export { LeastConnectionsPicker } from './least-connections.ts';
export type { OutlierOptions } from './outlier.ts';
export type { P2cOptions } from './p2c.ts';
export { P2cPicker } from './p2c.ts';
export type { PeakEwmaOptions } from './peak-ewma.ts';
export { PeakEwmaPicker } from './peak-ewma.ts';
export { RandomPicker } from './random.ts';
export type { RetryBudgetOptions } from './retry-budget.ts';
export { RetryBudget } from './retry-budget.ts';
export { RoundRobinPicker } from './round-robin.ts';
export type { SlowStartOptions } from './slow-start.ts';
export { slowStartFactor } from './slow-start.ts';
export type { CandidateSet, EndpointView, Outcome, Picker, PickRequest, Policy } from './types.ts';
export { POLICIES, POLICY_ALIASES } from './types.ts';
export type { WeightedRoundRobinOptions } from './weighted-round-robin.ts';
export { WeightedRoundRobinPicker } from './weighted-round-robin.ts';
export type { BalancedClientOptions, ClientEndpoint, ClientRequest, ClientResponse } from './client.ts';
export { BalancedClient } from './client.ts';
