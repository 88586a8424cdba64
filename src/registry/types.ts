/**
 * Service registry data (seed 04.5.3: the registry holds service name → instance addresses,
 * with health): instances, their health checks and states, and the validation of a
 * registration, which names the offending field (Consul's agent API shape, lower-camel keys
 * accepted in either case).
 * Leaves out: ACLs, namespaces, datacenters, connect/sidecar fields.
 */

/** Consul's three check states; an instance takes the worst of its checks. */
export type HealthStatus = 'passing' | 'warning' | 'critical';

export const STATUS_RANK: Readonly<Record<HealthStatus, number>> = { passing: 0, warning: 1, critical: 2 };

export type CheckSpec =
  /** Heartbeat: the instance must call pass/warn/fail at least every `ttlMs`. */
  | { readonly type: 'ttl'; readonly ttlMs: number; readonly deregisterCriticalAfterMs?: number }
  /** Active probe: an HTTP GET (2xx = success; 429 = warning) or a TCP connect every `intervalMs`. */
  | {
      readonly type: 'http' | 'tcp';
      /** URL for http, host:port for tcp. */
      readonly target: string;
      readonly intervalMs: number;
      readonly timeoutMs: number;
      /** Consecutive successes before passing (default 1). */
      readonly successThreshold?: number;
      /** Consecutive failures before critical (default 1). */
      readonly failureThreshold?: number;
      readonly deregisterCriticalAfterMs?: number;
    };

export interface InstanceSpec {
  readonly id: string;
  readonly service: string;
  readonly address: string;
  readonly port: number;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, string>>;
  /** Relative weight for balancing, > 0. */
  readonly weight: number;
  readonly check: CheckSpec | undefined;
}

/** What a store holds for one instance. */
export interface InstanceRecord extends InstanceSpec {
  readonly status: HealthStatus;
  /** Last check output, bounded. */
  readonly output: string;
  /** Which registry node runs the instance's check (the Consul agent that owns it). */
  readonly node: string;
}

export interface ValidationLimits {
  /** Metadata keys at most. */
  readonly metaKeysMax: number;
  /** Bytes of one metadata key at most. */
  readonly metaKeyBytesMax: number;
  /** Bytes of one metadata value at most. */
  readonly metaValueBytesMax: number;
  readonly tagsMax: number;
  readonly tagBytesMax: number;
}

/** Consul's limits: 64 keys, 128-byte keys, 512-byte values. */
export const VALIDATION_DEFAULTS: ValidationLimits = {
  metaKeysMax: 64,
  metaKeyBytesMax: 128,
  metaValueBytesMax: 512,
  tagsMax: 64,
  tagBytesMax: 255,
};

/** A malformed registration; `field` names what was wrong (HTTP 400). */
export class RegistrationError extends Error {
  override readonly name = 'RegistrationError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** A DNS label: service names and tags must be usable in `<tag>.<service>.service.<domain>`. */
const NAME_RE = /^[A-Za-z0-9]([A-Za-z0-9_-]{0,62})$/;
const ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

function pick(obj: Record<string, unknown>, ...names: string[]): unknown {
  for (const n of names) if (obj[n] !== undefined) return obj[n];
  return undefined;
}

function bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function parseDurationMs(field: string, v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
  if (typeof v === 'string') {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
    if (m) {
      const n = Number(m[1]);
      const unit = m[2] ?? 'ms';
      const ms = n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000);
      if (ms > 0) return ms;
    }
  }
  throw new RegistrationError(field, `must be a positive duration such as "10s" or a number of ms, got ${JSON.stringify(v)}`);
}

function positiveInt(field: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > 1000) {
    throw new RegistrationError(field, `must be an integer in 1..1000, got ${JSON.stringify(v)}`);
  }
  return v;
}

function parseCheck(raw: unknown, address: string, port: number): CheckSpec | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new RegistrationError('Check', 'must be an object');
  const c = raw as Record<string, unknown>;
  const dereg = pick(c, 'DeregisterCriticalServiceAfter', 'deregisterCriticalAfterMs', 'deregisterCriticalAfter');
  const deregisterCriticalAfterMs = dereg === undefined ? undefined : parseDurationMs('Check.DeregisterCriticalServiceAfter', dereg);
  const withDereg = deregisterCriticalAfterMs === undefined ? {} : { deregisterCriticalAfterMs };
  const ttl = pick(c, 'TTL', 'ttl', 'ttlMs');
  const http = pick(c, 'HTTP', 'http');
  const tcp = pick(c, 'TCP', 'tcp');
  const kinds = [ttl, http, tcp].filter((x) => x !== undefined).length;
  if (kinds !== 1) throw new RegistrationError('Check', 'must have exactly one of TTL, HTTP, TCP');
  if (ttl !== undefined) return { type: 'ttl', ttlMs: parseDurationMs('Check.TTL', ttl), ...withDereg };
  const intervalMs = parseDurationMs('Check.Interval', pick(c, 'Interval', 'interval', 'intervalMs') ?? '10s');
  const timeoutMs = parseDurationMs('Check.Timeout', pick(c, 'Timeout', 'timeout', 'timeoutMs') ?? Math.min(intervalMs, 5000));
  const successThreshold = positiveInt('Check.SuccessBeforePassing', pick(c, 'SuccessBeforePassing', 'successThreshold'), 1);
  const failureThreshold = positiveInt('Check.FailuresBeforeCritical', pick(c, 'FailuresBeforeCritical', 'failureThreshold'), 1);
  if (http !== undefined) {
    if (typeof http !== 'string' || !/^https?:\/\/[^\s]+$/.test(http)) throw new RegistrationError('Check.HTTP', `must be an http(s) URL, got ${JSON.stringify(http)}`);
    return { type: 'http', target: http, intervalMs, timeoutMs, successThreshold, failureThreshold, ...withDereg };
  }
  const target = tcp === true ? `${address}:${port}` : tcp;
  if (typeof target !== 'string' || !/^[^\s:]+:\d{1,5}$/.test(target)) throw new RegistrationError('Check.TCP', `must be host:port, got ${JSON.stringify(tcp)}`);
  return { type: 'tcp', target, intervalMs, timeoutMs, successThreshold, failureThreshold, ...withDereg };
}

/**
 * Validates a registration body (Consul field names `Name`, `ID`, `Address`, `Port`, `Tags`,
 * `Meta`, `Weights.Passing` or `Weight`, `Check`; lower-case names also accepted).
 */
export function parseRegistration(body: unknown, limits: ValidationLimits = VALIDATION_DEFAULTS): InstanceSpec {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new RegistrationError('body', 'must be a JSON object');
  const b = body as Record<string, unknown>;
  const service = pick(b, 'Name', 'name', 'Service', 'service');
  if (service === undefined || service === '') throw new RegistrationError('Name', 'is required');
  if (typeof service !== 'string' || !NAME_RE.test(service)) {
    throw new RegistrationError('Name', `must be a DNS label (letters, digits, '-', '_', at most 63 chars), got ${JSON.stringify(service)}`);
  }
  const address = pick(b, 'Address', 'address') ?? '127.0.0.1';
  if (typeof address !== 'string' || address === '' || bytes(address) > 255 || /\s/.test(address)) {
    throw new RegistrationError('Address', `must be a host name or IP address, got ${JSON.stringify(address)}`);
  }
  const port = pick(b, 'Port', 'port');
  if (typeof port !== 'number' || !Number.isSafeInteger(port) || port < 1 || port > 65535) {
    throw new RegistrationError('Port', `must be an integer in 1..65535, got ${JSON.stringify(port)}`);
  }
  const id = pick(b, 'ID', 'id', 'Id') ?? `${service}-${address}-${port}`;
  if (typeof id !== 'string' || !ID_RE.test(id)) throw new RegistrationError('ID', `must be 1..128 chars of [A-Za-z0-9._:-], got ${JSON.stringify(id)}`);
  const tagsRaw = pick(b, 'Tags', 'tags') ?? [];
  if (!Array.isArray(tagsRaw)) throw new RegistrationError('Tags', 'must be an array of strings');
  if (tagsRaw.length > limits.tagsMax) throw new RegistrationError('Tags', `at most ${limits.tagsMax} tags, got ${tagsRaw.length}`);
  const tags: string[] = [];
  for (const t of tagsRaw) {
    if (typeof t !== 'string' || t === '' || bytes(t) > limits.tagBytesMax) {
      throw new RegistrationError('Tags', `each tag must be a non-empty string of at most ${limits.tagBytesMax} bytes`);
    }
    tags.push(t);
  }
  const metaRaw = pick(b, 'Meta', 'meta') ?? {};
  if (typeof metaRaw !== 'object' || metaRaw === null || Array.isArray(metaRaw)) throw new RegistrationError('Meta', 'must be an object of strings');
  const metaEntries = Object.entries(metaRaw as Record<string, unknown>);
  if (metaEntries.length > limits.metaKeysMax) throw new RegistrationError('Meta', `at most ${limits.metaKeysMax} keys, got ${metaEntries.length}`);
  const meta: Record<string, string> = {};
  for (const [k, v] of metaEntries) {
    if (bytes(k) > limits.metaKeyBytesMax || k === '') throw new RegistrationError('Meta', `key ${JSON.stringify(k.slice(0, 32))} must be 1..${limits.metaKeyBytesMax} bytes`);
    if (typeof v !== 'string') throw new RegistrationError('Meta', `value of ${JSON.stringify(k)} must be a string`);
    if (bytes(v) > limits.metaValueBytesMax) throw new RegistrationError('Meta', `value of ${JSON.stringify(k)} is ${bytes(v)} bytes, at most ${limits.metaValueBytesMax}`);
    meta[k] = v;
  }
  const weights = pick(b, 'Weights', 'weights');
  const weightRaw = pick(b, 'Weight', 'weight') ?? (typeof weights === 'object' && weights !== null ? (weights as Record<string, unknown>).Passing : undefined) ?? 1;
  if (typeof weightRaw !== 'number' || !Number.isFinite(weightRaw) || weightRaw <= 0 || weightRaw > 1_000_000) {
    throw new RegistrationError('Weight', `must be a number in (0, 1e6], got ${JSON.stringify(weightRaw)}`);
  }
  const check = parseCheck(pick(b, 'Check', 'check'), address, port);
  return { id, service, address, port, tags, meta, weight: weightRaw, check };
}
