/**
 * The real prober for active health checks: an HTTP GET (2xx passing, 429 warning, anything
 * else or no answer in time critical — Consul's rule) or a TCP connect (connected = passing).
 * Leaves out: gRPC, script and Docker checks; TLS options.
 */
import net from 'node:net';
import type { Prober, ProbeResult } from './registry.ts';
import type { CheckSpec } from './types.ts';

export class NetProber implements Prober {
  probe(check: Extract<CheckSpec, { type: 'http' | 'tcp' }>): Promise<ProbeResult> {
    return check.type === 'http' ? this.http(check.target, check.timeoutMs) : this.tcp(check.target, check.timeoutMs);
  }

  private async http(url: string, timeoutMs: number): Promise<ProbeResult> {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { 'user-agent': 'clusterkit-registry-check' } });
      await res.body?.cancel();
      const output = `HTTP GET ${url}: ${res.status}`;
      if (res.status >= 200 && res.status < 300) return { status: 'passing', output };
      if (res.status === 429) return { status: 'warning', output };
      return { status: 'critical', output };
    } catch (err) {
      return { status: 'critical', output: `HTTP GET ${url}: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  private tcp(target: string, timeoutMs: number): Promise<ProbeResult> {
    const i = target.lastIndexOf(':');
    const host = target.slice(0, i);
    const port = Number(target.slice(i + 1));
    return new Promise((resolve) => {
      const socket = net.connect({ host, port });
      const done = (r: ProbeResult) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(r);
      };
      const timer = setTimeout(() => done({ status: 'critical', output: `TCP ${target}: timeout after ${timeoutMs} ms` }), timeoutMs);
      socket.once('connect', () => done({ status: 'passing', output: `TCP ${target}: connected` }));
      socket.once('error', (e) => done({ status: 'critical', output: `TCP ${target}: ${e.message}` }));
    });
  }
}
