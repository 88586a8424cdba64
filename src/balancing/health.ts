/**
 * Active health-check thresholds (HAProxy `rise`/`fall`, Envoy `healthy_threshold` /
 * `unhealthy_threshold`): an endpoint turns unhealthy after `unhealthyThreshold` failed checks
 * in a row and healthy again after `healthyThreshold` passed checks in a row. The very first
 * check decides directly, so an endpoint unreachable at start is out after one probe.
 * Pure state; the prober (HTTP or TCP, with its interval and timeout) lives in the proxy.
 */
import { ConfigError } from '../core/errors.ts';

export interface HealthThresholds {
  /** Passed checks in a row that make an unhealthy endpoint healthy. Default 2. */
  readonly healthyThreshold?: number;
  /** Failed checks in a row that make a healthy endpoint unhealthy. Default 3. */
  readonly unhealthyThreshold?: number;
}

export class HealthTracker {
  private readonly rise: number;
  private readonly fall: number;
  private streak = 0;
  private checked = false;
  healthy = true;

  constructor(thresholds: HealthThresholds = {}) {
    this.rise = thresholds.healthyThreshold ?? 2;
    this.fall = thresholds.unhealthyThreshold ?? 3;
    for (const [name, v] of [
      ['healthyThreshold', this.rise],
      ['unhealthyThreshold', this.fall],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ConfigError(`health check ${name} must be an integer >= 1, got ${v}`);
    }
  }

  /** Records one check; returns true when the health state changed. */
  record(passed: boolean): boolean {
    if (!this.checked) {
      this.checked = true;
      this.streak = 0;
      const changed = this.healthy !== passed;
      this.healthy = passed;
      return changed;
    }
    if (passed === this.healthy) {
      this.streak = 0;
      return false;
    }
    this.streak++;
    if (this.streak >= (passed ? this.rise : this.fall)) {
      this.healthy = passed;
      this.streak = 0;
      return true;
    }
    return false;
  }
}
