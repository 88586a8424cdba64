/**
 * SWIM wire messages. A packet carries one protocol message (`body`) and piggybacked membership
 * updates (SWIM §4's "infection-style" dissemination). Probes (ping, ack, nack, ping-req) and
 * gossip travel as datagrams; push-pull full-state exchanges and joins travel as stream
 * messages (TCP in the runtime). Addresses are opaque strings chosen by the host
 * ("127.0.0.1:7946" for UDP, a node id in the simulator).
 */

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';
export const MEMBER_STATES: readonly MemberState[] = ['alive', 'suspect', 'dead', 'left'];

/** A membership update, disseminated by piggybacking. `incarnation` orders updates about one member. */
export type SwimUpdate =
  | { type: 'alive'; name: string; address: string; meta: string; incarnation: number }
  | { type: 'suspect'; name: string; incarnation: number; from: string }
  | { type: 'dead'; name: string; incarnation: number; from: string }
  | { type: 'left'; name: string; incarnation: number };

/** One member's full state, as exchanged by push-pull. */
export interface MemberRecord {
  name: string;
  address: string;
  meta: string;
  incarnation: number;
  state: MemberState;
}

export type SwimBody =
  /** Direct probe. `target` is the name the prober meant, so a reused address cannot ack for another member. */
  | { type: 'ping'; seq: number; target: string }
  | { type: 'ack'; seq: number }
  /** Lifeguard: a ping-req helper's "I asked, the target did not answer" (proves the helper and the path to it work). */
  | { type: 'nack'; seq: number }
  /** Indirect probe request: ping `target` at `targetAddress` for me and relay its ack (or a nack). */
  | { type: 'ping-req'; seq: number; target: string; targetAddress: string }
  /** Carries piggybacked updates only. */
  | { type: 'gossip' }
  /** Full state push (stream). `join` marks a join through a seed. */
  | { type: 'push-pull'; join: boolean; fromAddress: string; states: MemberRecord[] }
  | { type: 'push-pull-reply'; states: MemberRecord[] };

export type SwimBodyType = SwimBody['type'];

export interface SwimPacket {
  /** Sender's member name. */
  from: string;
  body: SwimBody;
  updates: SwimUpdate[];
}

/** Messages that travel over the stream channel (TCP) rather than as datagrams. */
export function isStreamBody(body: SwimBody): boolean {
  return body.type === 'push-pull' || body.type === 'push-pull-reply';
}
