/**
 * Opens a registry store by kind, for the CLI and benchmarks: memory; kv (clusterkit's Raft KV
 * through its etcd-shaped HTTP API); etcd-gateway (a real etcd through its JSON gateway); etcd
 * (a real etcd through the etcd3 client, with leases); gossip (the CRDT map over HTTP gossip).
 * Leaves out: reading store settings from a file.
 */
import { ConfigError } from '../core/errors.ts';
import { parseNodeId } from '../core/ids.ts';
import { EtcdStore } from './etcd-store.ts';
import { GatewayStore } from './gateway-store.ts';
import { GossipStore, HttpGossipTransport } from './gossip-store.ts';
import { MemoryStore } from './memory-store.ts';
import type { RegistryStore } from './store.ts';

export const STORE_KINDS = ['memory', 'kv', 'etcd-gateway', 'etcd', 'gossip'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

export interface OpenStoreOptions {
  readonly kind: string;
  /** kv / etcd / etcd-gateway: backend URLs. */
  readonly endpoints?: readonly string[];
  /** Key prefix in a KV backend. */
  readonly prefix?: string;
  /** gossip: this node's name. */
  readonly node?: string;
  /** gossip: `host:port` to listen on for gossip. */
  readonly gossipListen?: string;
  /** gossip: peers as `name=host:port`. */
  readonly gossipPeers?: readonly string[];
  /** memory: first index (see MemoryStore). */
  readonly memoryStartIndex?: number;
  /** kv / etcd-gateway / etcd: lease TTL of this node's records, seconds (default 10). */
  readonly leaseTtlSec?: number;
}

function needEndpoints(o: OpenStoreOptions): readonly string[] {
  const e = o.endpoints ?? [];
  if (e.length === 0) throw new ConfigError(`--store ${o.kind} needs --endpoint <url> (e.g. http://127.0.0.1:2379)`);
  for (const u of e) if (!/^https?:\/\/[^\s]+$/.test(u)) throw new ConfigError(`--endpoint must be an http(s) URL, got ${JSON.stringify(u)}`);
  return e;
}

function hostPort(flag: string, v: string): { host: string; port: number } {
  const m = /^([^\s:]+):(\d{1,5})$/.exec(v);
  const port = Number(m?.[2]);
  if (!m || port > 65535) throw new ConfigError(`${flag} must be host:port, got ${JSON.stringify(v)}`);
  return { host: m[1] ?? '127.0.0.1', port };
}

export async function openStore(o: OpenStoreOptions): Promise<RegistryStore> {
  const prefix = o.prefix ?? '/clusterkit/registry/';
  switch (o.kind) {
    case 'memory':
      return new MemoryStore(o.memoryStartIndex ?? 0);
    case 'kv':
      return new GatewayStore({ endpoints: needEndpoints(o), prefix, kind: 'kv', leaseTtlSec: o.leaseTtlSec ?? 10 });
    case 'etcd-gateway':
      return new GatewayStore({ endpoints: needEndpoints(o), prefix, kind: 'etcd-gateway', leaseTtlSec: o.leaseTtlSec ?? 10 });
    case 'etcd':
      return new EtcdStore({ hosts: needEndpoints(o), prefix, ...(o.leaseTtlSec === undefined ? {} : { leaseTtlSec: o.leaseTtlSec }) });
    case 'gossip': {
      const self = parseNodeId(o.node ?? 'registry-1', '--node');
      const peers = new Map<string, string>();
      for (const p of o.gossipPeers ?? []) {
        const i = p.indexOf('=');
        if (i < 1) throw new ConfigError(`--gossip-peer must be name=host:port, got ${JSON.stringify(p)}`);
        const name = parseNodeId(p.slice(0, i), '--gossip-peer name');
        hostPort('--gossip-peer', p.slice(i + 1));
        peers.set(name, p.slice(i + 1));
      }
      const listen = hostPort('--gossip-listen', o.gossipListen ?? '127.0.0.1:8301');
      const transport = new HttpGossipTransport(self, peers);
      await transport.listen(listen.host, listen.port);
      const names = [...peers.keys()];
      return new GossipStore({ self, peers: () => names, transport });
    }
    default:
      throw new ConfigError(`--store must be one of ${STORE_KINDS.join(', ')}; got ${JSON.stringify(o.kind)}`);
  }
}
