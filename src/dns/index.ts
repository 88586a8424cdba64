/**
 * DNS interface to the service registry (seed 04.5).
 */
export type { DnsCatalog, DnsServerOptions, DnsStats } from './server.ts';
export { DnsServer, hexToIp, ipToHex } from './server.ts';
