/**
 * A DNS interface to the registry (seed 04.5: discovery by name, as Consul's DNS and
 * Kubernetes' cluster DNS offer): answers A and SRV for `<service>.service.<domain>` and
 * `<tag>.<service>.service.<domain>` with healthy instances only, over UDP (truncating with TC
 * when a reply exceeds 512 bytes or the client's EDNS size) and TCP (RFC 1035 §4.2.2 framing).
 * SRV targets are `<hex-ip>.addr.<domain>` (Consul's convention) with the A record as an
 * additional; those names also answer A queries.
 * Unknown service → NXDOMAIN with the zone's SOA; known service with no healthy instance, or a
 * record type we do not serve → NOERROR with no answers (NODATA). Names outside the domain →
 * REFUSED. Malformed packets (undecodable, responses, not exactly one question) are dropped and
 * counted. Leaves out: AAAA, PTR, recursion, RFC 2782 `_service._tcp` names, DNSSEC.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket, { type Answer, type DecodedPacket, type Packet, type Question } from 'dns-packet';
import type { InstanceRecord } from '../registry/types.ts';

export interface DnsCatalog {
  /** Healthy instances of `service` (with `tag` when given); undefined when the service is unknown. */
  healthy(service: string, tag: string | undefined): readonly InstanceRecord[] | undefined;
}

export interface DnsServerOptions {
  readonly host?: string;
  /** Default 8600 (Consul's). 0 picks a free port. */
  readonly port?: number;
  /** Default `clusterkit.` */
  readonly domain?: string;
  /** TTL of answers, seconds. Default 0 (clients re-ask; the registry is the source of truth). */
  readonly ttlSec?: number;
  /** Answers per reply at most (before UDP truncation). */
  readonly answersMax?: number;
  readonly tcp?: boolean;
  /** Open TCP connections at most. */
  readonly tcpConnectionsMax?: number;
}

export interface DnsStats {
  queries: number;
  malformed: number;
  nxdomain: number;
  nodata: number;
  refused: number;
  truncated: number;
}

const RCODE = { NOERROR: 0, FORMERR: 1, NXDOMAIN: 3, REFUSED: 5 } as const;
const RESPONSE_FLAG = 0x8000;
const UDP_BYTES_DEFAULT = 512;
const TCP_MESSAGE_BYTES_MAX = 65_535;

export class DnsServer {
  readonly stats: DnsStats = { queries: 0, malformed: 0, nxdomain: 0, nodata: 0, refused: 0, truncated: 0 };
  readonly domain: string;
  private readonly zone: string;
  private readonly ttl: number;
  private readonly answersMax: number;
  private udp: dgram.Socket | undefined;
  private tcp: net.Server | undefined;
  private readonly tcpSockets = new Set<net.Socket>();

  constructor(
    private readonly catalog: DnsCatalog,
    private readonly options: DnsServerOptions = {},
  ) {
    const d = (options.domain ?? 'clusterkit.').toLowerCase().replace(/\.$/, '');
    this.domain = `${d}.`;
    this.zone = d;
    this.ttl = options.ttlSec ?? 0;
    this.answersMax = options.answersMax ?? 64;
  }

  /**
   * Binds UDP (and TCP on the same port); returns the port. With port 0 the UDP port is chosen
   * by the system and TCP may find it taken: then both are retried on another port.
   */
  async listen(): Promise<number> {
    const requested = this.options.port ?? 8600;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.bind(requested);
      } catch (err) {
        await this.close();
        const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
        if (requested !== 0 || !inUse || attempt >= 20) throw err;
      }
    }
  }

  private async bind(requested: number): Promise<number> {
    const host = this.options.host ?? '127.0.0.1';
    const udp = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    this.udp = udp;
    udp.on('message', (msg, rinfo) => {
      const reply = this.handle(msg, UDP_BYTES_DEFAULT);
      if (reply !== undefined) udp.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(requested, host, () => resolve());
    });
    const port = udp.address().port;
    if (this.options.tcp !== false) {
      const server = net.createServer((s) => this.serveTcp(s));
      this.tcp = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
    }
    return port;
  }

  async close(): Promise<void> {
    for (const s of this.tcpSockets) s.destroy();
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    if (udp !== undefined) await new Promise<void>((resolve) => {
      try {
        udp.close(() => resolve());
      } catch {
        resolve(); // never bound
      }
    });
    if (tcp !== undefined) await new Promise<void>((resolve) => tcp.close(() => resolve()));
  }

  private serveTcp(socket: net.Socket): void {
    if (this.tcpSockets.size >= (this.options.tcpConnectionsMax ?? 256)) {
      socket.destroy();
      return;
    }
    this.tcpSockets.add(socket);
    socket.setTimeout(10_000, () => socket.destroy());
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        const reply = this.handle(msg, TCP_MESSAGE_BYTES_MAX);
        if (reply === undefined) continue;
        const head = Buffer.alloc(2);
        head.writeUInt16BE(reply.length);
        socket.write(Buffer.concat([head, reply]));
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.tcpSockets.delete(socket));
  }

  /** Answers one DNS message; undefined when it is dropped. `sizeMax` is the transport's limit. */
  handle(msg: Buffer, sizeMax: number): Buffer | undefined {
    let q: DecodedPacket;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      this.stats.malformed++;
      return undefined;
    }
    if (q.type !== 'query' || (q.questions?.length ?? 0) !== 1) {
      this.stats.malformed++;
      return undefined;
    }
    this.stats.queries++;
    const question = q.questions?.[0] as Question;
    const edns = q.additionals?.find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
    const limit = sizeMax === UDP_BYTES_DEFAULT && edns?.udpPayloadSize !== undefined ? Math.max(UDP_BYTES_DEFAULT, Math.min(edns.udpPayloadSize, 4096)) : sizeMax;
    const rd = (q.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
    const { rcode, answers, additionals, authorities } = this.answer(question);
    const reply: Packet = {
      type: 'response',
      id: q.id ?? 0,
      flags: RESPONSE_FLAG | dnsPacket.AUTHORITATIVE_ANSWER | rd | rcode,
      questions: [question],
      answers,
      additionals,
      authorities,
    };
    let out = dnsPacket.encode(reply);
    if (out.length > limit) {
      this.stats.truncated++;
      const kept = [...answers];
      let small = out;
      while (kept.length > 0) {
        kept.pop();
        small = dnsPacket.encode({ ...reply, flags: (reply.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE, answers: kept, additionals: [] });
        if (small.length <= limit) break;
      }
      if (kept.length === 0) small = dnsPacket.encode({ ...reply, flags: (reply.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE, answers: [], additionals: [] });
      out = small;
    }
    return out;
  }

  private answer(question: Question): { rcode: number; answers: Answer[]; additionals: Answer[]; authorities: Answer[] } {
    const name = question.name.toLowerCase().replace(/\.$/, '');
    const qtype: string = question.type;
    const none = { answers: [] as Answer[], additionals: [] as Answer[] };
    if (name !== this.zone && !name.endsWith(`.${this.zone}`)) {
      this.stats.refused++;
      return { rcode: RCODE.REFUSED, ...none, authorities: [] };
    }
    const labels = name === this.zone ? [] : name.slice(0, -(this.zone.length + 1)).split('.');
    const soa = this.soa();
    // <hex-ip>.addr.<domain>
    if (labels.length === 2 && labels[1] === 'addr') {
      const ip = hexToIp(labels[0] ?? '');
      if (ip === undefined) return this.nx(soa);
      if (qtype !== 'A' && qtype !== 'ANY') return this.nodata(soa);
      return { rcode: RCODE.NOERROR, answers: [{ type: 'A', name: question.name, ttl: this.ttl, data: ip }], additionals: [], authorities: [] };
    }
    let service: string | undefined;
    let tag: string | undefined;
    if (labels.length === 2 && labels[1] === 'service') service = labels[0];
    else if (labels.length === 3 && labels[2] === 'service') {
      tag = labels[0];
      service = labels[1];
    }
    if (service === undefined) {
      if (labels.length === 0) return this.nodata(soa);
      return this.nx(soa);
    }
    const instances = this.catalog.healthy(service, tag);
    if (instances === undefined) return this.nx(soa);
    const list = instances.slice(0, this.answersMax);
    const answers: Answer[] = [];
    const additionals: Answer[] = [];
    const ttl = this.ttl;
    if (qtype === 'A' || qtype === 'ANY') {
      const seen = new Set<string>();
      for (const r of list) {
        if (!net.isIPv4(r.address) || seen.has(r.address)) continue;
        seen.add(r.address);
        answers.push({ type: 'A', name: question.name, ttl, data: r.address });
      }
    }
    if (qtype === 'SRV' || qtype === 'ANY') {
      for (const r of list) {
        const target = net.isIPv4(r.address) ? `${ipToHex(r.address)}.addr.${this.zone}` : r.address;
        answers.push({ type: 'SRV', name: question.name, ttl, data: { priority: 1, weight: Math.max(1, Math.min(65535, Math.round(r.weight))), port: r.port, target } });
        if (net.isIPv4(r.address) && !additionals.some((a) => a.name === target)) additionals.push({ type: 'A', name: target, ttl, data: r.address });
      }
    }
    if (answers.length === 0) return this.nodata(soa);
    return { rcode: RCODE.NOERROR, answers, additionals, authorities: [] };
  }

  private nx(soa: Answer) {
    this.stats.nxdomain++;
    return { rcode: RCODE.NXDOMAIN, answers: [] as Answer[], additionals: [] as Answer[], authorities: [soa] };
  }

  private nodata(soa: Answer) {
    this.stats.nodata++;
    return { rcode: RCODE.NOERROR, answers: [] as Answer[], additionals: [] as Answer[], authorities: [soa] };
  }

  private soa(): Answer {
    return {
      type: 'SOA',
      name: this.zone,
      ttl: this.ttl,
      data: { mname: `ns.${this.zone}`, rname: `hostmaster.${this.zone}`, serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: this.ttl },
    };
  }
}

export function ipToHex(ip: string): string {
  return ip
    .split('.')
    .map((o) => Number(o).toString(16).padStart(2, '0'))
    .join('');
}

export function hexToIp(hex: string): string | undefined {
  if (!/^[0-9a-f]{8}$/.test(hex)) return undefined;
  const out: number[] = [];
  for (let i = 0; i < 8; i += 2) out.push(Number.parseInt(hex.slice(i, i + 2), 16));
  return out.join('.');
}
