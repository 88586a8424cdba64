/**
 * A registry process: the Registry core on real time, its HTTP API and its DNS interface, over
 * one store. What `clusterkit registry serve` runs.
 * Leaves out: TLS and ACLs.
 */
import { RealClock, RealTimers } from '../core/clock.ts';
import { DnsServer } from '../dns/server.ts';
import { RegistryHttpServer } from './http-api.ts';
import { NetProber } from './probe.ts';
import { Registry, type RegistryConfig, type RegistryEvent } from './registry.ts';
import type { RegistryStore } from './store.ts';

export interface RegistryAgentOptions {
  readonly store: RegistryStore;
  readonly host?: string;
  /** HTTP port (default 8500; 0 = any). */
  readonly httpPort?: number;
  /** DNS port (default 8600; 0 = any); `false` disables DNS. */
  readonly dnsPort?: number | false;
  readonly domain?: string;
  readonly config?: Partial<RegistryConfig>;
  readonly onEvent?: (e: RegistryEvent) => void;
}

export class RegistryAgent {
  readonly registry: Registry;
  readonly http: RegistryHttpServer;
  readonly dns: DnsServer | undefined;
  httpPort = 0;
  dnsPort = 0;

  constructor(private readonly options: RegistryAgentOptions) {
    this.registry = new Registry({
      store: options.store,
      clock: new RealClock(),
      timers: new RealTimers(),
      prober: new NetProber(),
      ...(options.config === undefined ? {} : { config: options.config }),
      ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
    });
    const reg = this.registry;
    this.dns =
      options.dnsPort === false
        ? undefined
        : new DnsServer(
            {
              healthy: (service, tag) => {
                if (reg.health(service).instances.length === 0) return undefined;
                return reg.health(service, { passing: true, ...(tag === undefined ? {} : { tag }) }).instances;
              },
            },
            { host: options.host ?? '127.0.0.1', port: options.dnsPort ?? 8600, ...(options.domain === undefined ? {} : { domain: options.domain }) },
          );
    const dns = this.dns;
    this.http = new RegistryHttpServer(this.registry, {
      host: options.host ?? '127.0.0.1',
      port: options.httpPort ?? 8500,
      ...(dns === undefined ? {} : { dnsStats: () => dns.stats }),
    });
  }

  async start(): Promise<void> {
    await this.registry.start();
    this.httpPort = (await this.http.listen()).port;
    if (this.dns !== undefined) this.dnsPort = await this.dns.listen();
  }

  get url(): string {
    return `http://${this.options.host ?? '127.0.0.1'}:${this.httpPort}`;
  }

  async close(): Promise<void> {
    await this.registry.close();
    await this.http.close();
    await this.dns?.close();
    await this.options.store.close();
  }
}
