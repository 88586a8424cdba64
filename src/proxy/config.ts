/**
 * Proxy configuration: one JSON shape for the config file and the CLI flags, with defaults and
 * validation that names the offending field and the allowed values. The same config runs as one
 * central proxy or as one proxy per node (seed 04.7.1 / 04.7.2); only `listen` differs.
 */
import { ConfigError } from '../core/errors.ts';
import { parsePolicy } from '../balancing/create-picker.ts';
import type { Policy } from '../balancing/types.ts';
import { KEY_RING_KINDS, type KeyRingKind } from '../balancing/placement-ring.ts';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface BackendConfig {
  /** `host:port` of an HTTP/1.1 backend. */
  readonly address: string;
  readonly weight: number;
}

export type HealthCheckConfig =
  | { readonly type: 'none' }
  | {
      readonly type: 'http' | 'tcp';
      /** HTTP only: path probed with GET; 2xx/3xx passes. */
      readonly path: string;
      readonly intervalMs: number;
      readonly timeoutMs: number;
      readonly healthyThreshold: number;
      readonly unhealthyThreshold: number;
    };

export interface OutlierConfig {
  readonly enabled: boolean;
  readonly consecutiveFailuresMax: number;
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
  readonly maxEjectionPercent: number;
}

export interface RetryConfig {
  /** Attempts per request including the first (1 = no retries). */
  readonly attemptsMax: number;
  readonly percentCanRetry: number;
  readonly minRetriesPerSec: number;
}

export interface TimeoutConfig {
  /** TCP connect to a backend. */
  readonly connectMs: number;
  /** Per try: from sending a request to receiving the backend's response headers. */
  readonly upstreamHeadersMs: number;
  /** Per try: longest gap between body chunks from the backend. */
  readonly upstreamBodyMs: number;
  /** Client must send its request headers within this time. */
  readonly clientHeadersMs: number;
  /** Idle keep-alive client connections are closed after this time. */
  readonly clientKeepAliveMs: number;
}

export interface ProxyConfig {
  readonly listen: HostPort;
  /** Admin endpoint (`/metrics`, `/healthz`, `/backends`); undefined = none. */
  readonly admin: HostPort | undefined;
  readonly policy: Policy;
  readonly backends: readonly BackendConfig[];
  readonly healthCheck: HealthCheckConfig;
  readonly outlier: OutlierConfig;
  readonly retries: RetryConfig;
  readonly timeouts: TimeoutConfig;
  readonly panicThresholdPercent: number;
  /** Slow-start window for backends that come back; 0 = off. */
  readonly slowStartMs: number;
  /** Keep-alive connections per backend, at most. */
  readonly upstreamConnectionsMax: number;
  /** Request header whose value is the consistent-hash key; default: the client address. */
  readonly hashHeader: string | undefined;
  /** Table behind `consistent-hash`: builtin virtual-node ring, or a placement kind. */
  readonly hashRing: KeyRingKind;
  /** Seed for randomised pickers. */
  readonly seed: number;
}

export const DEFAULTS = {
  healthCheck: { type: 'tcp', path: '/', intervalMs: 5000, timeoutMs: 1000, healthyThreshold: 2, unhealthyThreshold: 3 },
  outlier: { enabled: true, consecutiveFailuresMax: 5, baseEjectionMs: 30_000, maxEjectionMs: 300_000, maxEjectionPercent: 50 },
  retries: { attemptsMax: 3, percentCanRetry: 0.2, minRetriesPerSec: 3 },
  timeouts: { connectMs: 2000, upstreamHeadersMs: 15_000, upstreamBodyMs: 30_000, clientHeadersMs: 10_000, clientKeepAliveMs: 5000 },
  panicThresholdPercent: 50,
  slowStartMs: 0,
  upstreamConnectionsMax: 128,
  policy: 'round-robin',
} as const;

/** Parses `host:port` (or `[v6]:port`). `allowZero` lets a listener take an ephemeral port. */
export function parseHostPort(value: string, what: string, allowZero = false): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || !(port >= (allowZero ? 0 : 1) && port <= 65535)) {
    throw new ConfigError(`${what} must be host:port with port ${allowZero ? 0 : 1}..65535, got ${JSON.stringify(value)}`);
  }
  return { host: (m[1] ?? m[2]) as string, port };
}

export function formatHostPort(hp: HostPort): string {
  return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

/** Parses `host:port` or `host:port=weight` (the CLI `--backend` form). */
export function parseBackend(value: unknown, what: string): BackendConfig {
  if (typeof value === 'string') {
    const eq = value.lastIndexOf('=');
    const addr = eq === -1 ? value : value.slice(0, eq);
    const weight = eq === -1 ? 1 : Number(value.slice(eq + 1));
    return { address: formatHostPort(parseHostPort(addr, what)), weight: checkWeight(weight, what) };
  }
  if (isObject(value)) {
    checkKeys(value, ['address', 'weight'], what);
    if (typeof value.address !== 'string') throw new ConfigError(`${what}.address must be a "host:port" string`);
    const weight = value.weight === undefined ? 1 : value.weight;
    return {
      address: formatHostPort(parseHostPort(value.address, `${what}.address`)),
      weight: checkWeight(weight, `${what}.weight`),
    };
  }
  throw new ConfigError(`${what} must be "host:port", "host:port=weight" or {"address", "weight"}`);
}

function checkWeight(w: unknown, what: string): number {
  if (typeof w !== 'number' || !Number.isFinite(w) || w <= 0 || w > 1_000_000) {
    throw new ConfigError(`${what} weight must be a number in (0, 1000000], got ${JSON.stringify(w)}`);
  }
  return w;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw new ConfigError(`${what}: unknown field ${JSON.stringify(k)} (allowed: ${allowed.join(', ')})`);
  }
}

function num(obj: Record<string, unknown>, key: string, what: string, dflt: number, min: number, max: number, integer = false): number {
  const v = obj[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new ConfigError(`${what}.${key} must be ${integer ? 'an integer' : 'a number'} in ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function section(raw: Record<string, unknown>, key: string, allowed: readonly string[]): Record<string, unknown> | false {
  const v = raw[key];
  if (v === undefined) return {};
  if (v === false) return false;
  if (!isObject(v)) throw new ConfigError(`${key} must be an object${key === 'healthCheck' || key === 'outlier' ? ' or false' : ''}`);
  checkKeys(v, allowed, key);
  return v;
}

const TOP_KEYS = [
  'listen',
  'admin',
  'policy',
  'backends',
  'healthCheck',
  'outlier',
  'retries',
  'timeouts',
  'panicThresholdPercent',
  'slowStartMs',
  'upstreamConnectionsMax',
  'hashHeader',
  'hashRing',
  'seed',
] as const;

/**
 * Validates a raw config object (parsed JSON, or flags turned into the same shape) and fills in
 * defaults. Throws `ConfigError` naming the field.
 */
export function resolveProxyConfig(raw: unknown, opts: { backendsFromRegistry?: boolean } = {}): ProxyConfig {
  if (!isObject(raw)) throw new ConfigError('proxy config must be a JSON object');
  checkKeys(raw, TOP_KEYS, 'proxy config');
  if (typeof raw.listen !== 'string') throw new ConfigError('listen is required: "host:port" to accept clients on');
  const listen = parseHostPort(raw.listen, 'listen', true);
  let admin: HostPort | undefined;
  if (raw.admin !== undefined) {
    if (typeof raw.admin !== 'string') throw new ConfigError('admin must be a "host:port" string');
    admin = parseHostPort(raw.admin, 'admin', true);
  }
  if (raw.policy !== undefined && typeof raw.policy !== 'string') throw new ConfigError('policy must be a string');
  const policy = parsePolicy((raw.policy as string | undefined) ?? DEFAULTS.policy);
  // Server-side discovery (`--service`): the registry supplies the backends, so none may be listed.
  if (opts.backendsFromRegistry === true && raw.backends === undefined) raw.backends = [];
  if (!Array.isArray(raw.backends) || (raw.backends.length === 0 && opts.backendsFromRegistry !== true)) {
    throw new ConfigError('backends must be a non-empty list of "host:port" (or {"address", "weight"})');
  }
  if (raw.backends.length > 10_000) throw new ConfigError('backends: at most 10000 backends');
  const backends = raw.backends.map((b, i) => parseBackend(b, `backends[${i}]`));
  const seen = new Set<string>();
  for (const b of backends) {
    if (seen.has(b.address)) throw new ConfigError(`backends: ${b.address} is listed twice`);
    seen.add(b.address);
  }

  const hcRaw = section(raw, 'healthCheck', ['type', 'path', 'intervalMs', 'timeoutMs', 'healthyThreshold', 'unhealthyThreshold']);
  let healthCheck: HealthCheckConfig;
  const hcType = hcRaw === false ? 'none' : (hcRaw.type ?? DEFAULTS.healthCheck.type);
  if (hcType === 'none' || hcRaw === false) healthCheck = { type: 'none' };
  else if (hcType === 'http' || hcType === 'tcp') {
    const d = DEFAULTS.healthCheck;
    if (hcRaw.path !== undefined && (typeof hcRaw.path !== 'string' || !hcRaw.path.startsWith('/'))) {
      throw new ConfigError(`healthCheck.path must start with "/", got ${JSON.stringify(hcRaw.path)}`);
    }
    const intervalMs = num(hcRaw, 'intervalMs', 'healthCheck', d.intervalMs, 10, 3_600_000);
    const timeoutMs = num(hcRaw, 'timeoutMs', 'healthCheck', d.timeoutMs, 1, 600_000);
    healthCheck = {
      type: hcType,
      path: (hcRaw.path as string | undefined) ?? d.path,
      intervalMs,
      timeoutMs,
      healthyThreshold: num(hcRaw, 'healthyThreshold', 'healthCheck', d.healthyThreshold, 1, 100, true),
      unhealthyThreshold: num(hcRaw, 'unhealthyThreshold', 'healthCheck', d.unhealthyThreshold, 1, 100, true),
    };
  } else {
    throw new ConfigError(`healthCheck.type must be one of http, tcp, none; got ${JSON.stringify(hcType)}`);
  }

  const oRaw = section(raw, 'outlier', ['consecutiveFailuresMax', 'baseEjectionMs', 'maxEjectionMs', 'maxEjectionPercent']);
  const od = DEFAULTS.outlier;
  const outlier: OutlierConfig =
    oRaw === false
      ? { ...od, enabled: false }
      : {
          enabled: true,
          consecutiveFailuresMax: num(oRaw, 'consecutiveFailuresMax', 'outlier', od.consecutiveFailuresMax, 1, 1_000_000, true),
          baseEjectionMs: num(oRaw, 'baseEjectionMs', 'outlier', od.baseEjectionMs, 1, 86_400_000),
          maxEjectionMs: num(oRaw, 'maxEjectionMs', 'outlier', od.maxEjectionMs, 1, 86_400_000),
          maxEjectionPercent: num(oRaw, 'maxEjectionPercent', 'outlier', od.maxEjectionPercent, 0, 100),
        };
  if (outlier.maxEjectionMs < outlier.baseEjectionMs) {
    throw new ConfigError(`outlier.maxEjectionMs (${outlier.maxEjectionMs}) must be >= outlier.baseEjectionMs (${outlier.baseEjectionMs})`);
  }

  const rRaw = section(raw, 'retries', ['attemptsMax', 'percentCanRetry', 'minRetriesPerSec']);
  const rd = DEFAULTS.retries;
  const r = rRaw === false ? {} : rRaw;
  const retries: RetryConfig = {
    attemptsMax: num(r, 'attemptsMax', 'retries', rd.attemptsMax, 1, 10, true),
    percentCanRetry: num(r, 'percentCanRetry', 'retries', rd.percentCanRetry, 0, 1),
    minRetriesPerSec: num(r, 'minRetriesPerSec', 'retries', rd.minRetriesPerSec, 0, 1_000_000),
  };

  const tRaw = section(raw, 'timeouts', ['connectMs', 'upstreamHeadersMs', 'upstreamBodyMs', 'clientHeadersMs', 'clientKeepAliveMs']);
  const td = DEFAULTS.timeouts;
  const t = tRaw === false ? {} : tRaw;
  const timeouts: TimeoutConfig = {
    connectMs: num(t, 'connectMs', 'timeouts', td.connectMs, 1, 600_000),
    upstreamHeadersMs: num(t, 'upstreamHeadersMs', 'timeouts', td.upstreamHeadersMs, 1, 3_600_000),
    upstreamBodyMs: num(t, 'upstreamBodyMs', 'timeouts', td.upstreamBodyMs, 1, 3_600_000),
    clientHeadersMs: num(t, 'clientHeadersMs', 'timeouts', td.clientHeadersMs, 1, 3_600_000),
    clientKeepAliveMs: num(t, 'clientKeepAliveMs', 'timeouts', td.clientKeepAliveMs, 1, 3_600_000),
  };

  if (raw.hashHeader !== undefined && (typeof raw.hashHeader !== 'string' || !/^[A-Za-z0-9-]+$/.test(raw.hashHeader))) {
    throw new ConfigError(`hashHeader must be a header name, got ${JSON.stringify(raw.hashHeader)}`);
  }
  if (raw.hashRing !== undefined && !(KEY_RING_KINDS as readonly unknown[]).includes(raw.hashRing)) {
    throw new ConfigError(`hashRing must be one of ${KEY_RING_KINDS.join(', ')}; got ${JSON.stringify(raw.hashRing)}`);
  }
  return {
    listen,
    admin,
    policy,
    backends,
    healthCheck,
    outlier,
    retries,
    timeouts,
    panicThresholdPercent: num(raw, 'panicThresholdPercent', 'proxy config', DEFAULTS.panicThresholdPercent, 0, 100),
    slowStartMs: num(raw, 'slowStartMs', 'proxy config', DEFAULTS.slowStartMs, 0, 3_600_000),
    upstreamConnectionsMax: num(raw, 'upstreamConnectionsMax', 'proxy config', DEFAULTS.upstreamConnectionsMax, 1, 100_000, true),
    hashHeader: (raw.hashHeader as string | undefined)?.toLowerCase(),
    hashRing: (raw.hashRing as KeyRingKind | undefined) ?? 'builtin',
    seed: num(raw, 'seed', 'proxy config', 1, 0, Number.MAX_SAFE_INTEGER, true),
  };
}

/** Reads and validates a JSON config file; errors name the file. */
export function parseProxyConfigText(text: string, file: string): ProxyConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  try {
    return resolveProxyConfig(raw);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${file}: ${err.message}`);
    throw err;
  }
}
