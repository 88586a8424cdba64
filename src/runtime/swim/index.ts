/** SWIM runtime: UDP/TCP host and AES-256-GCM keyring. */
export type { AgentStats, HostPort, StatusReply, SwimAgentOptions } from './agent.ts';
export { formatHostPort, parseHostPort, queryAgentStatus, SwimAgent } from './agent.ts';
export { decodeKey, Keyring, SEAL_OVERHEAD_BYTES } from './keyring.ts';
