/**
 * The peer handshake and link security, as pure functions over bytes (node:crypto only).
 *
 * Each TCP connection carries messages one way, dialer -> listener (as etcd's peer streams:
 * a node dials every peer it sends to and accepts connections from every peer that sends to
 * it, so there is never a tie to break between two connections of one pair).
 *
 *   dialer                                   listener
 *   HELLO {v, cluster, from, to, nonceD, encrypt}  ->   checks version, cluster, `to` is itself,
 *                                                       `from` is a known peer, same encrypt setting
 *        <- REJECT {reason}                             (and closes) if any check fails
 *   without a cluster key:  <- WELCOME
 *   with a cluster key K:   <- CHALLENGE {nonceL, proofL = HMAC-SHA256(K, "L" | transcript)}
 *   checks proofL (refuses a listener without K)
 *   AUTH {proofD = HMAC-SHA256(K, "D" | transcript)} ->  checks proofD
 *        <- WELCOME, or REJECT {"authentication failed"}
 *
 * transcript = version, cluster id, from, to, nonceD, nonceL, encrypt: both proofs bind the
 * identities and both fresh nonces, so a recorded handshake cannot be replayed. With `encrypt`
 * every DATA body (a batch of length-prefixed messages) is AES-256-GCM sealed with a key
 * derived by HKDF-SHA256(K, nonceD|nonceL, "clusterkit frames <from> > <to>") and a 96-bit
 * nonce holding a per-connection frame counter
 * (TCP keeps order, so the counter is implicit and a replayed or dropped frame fails the tag).
 * Deliberately left out: key rotation, per-node keys and certificates (use TLS termination for
 * those), and confidentiality of the handshake itself (it carries only ids and nonces).
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NodeId } from '../../core/ids.ts';
import { isNodeId } from '../../core/ids.ts';

export const PROTOCOL_VERSION = 1;
export const NONCE_BYTES = 32;
export const GCM_TAG_BYTES = 16;
/** Limit on handshake frames (they arrive before the peer is known). */
export const HANDSHAKE_FRAME_BYTES_MAX = 4096;

export interface Hello {
  readonly v: number;
  readonly cluster: string;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly nonce: string; // hex
  readonly encrypt: boolean;
}
export interface Challenge {
  readonly nonce: string;
  readonly proof: string;
}
export interface Auth {
  readonly proof: string;
}
export interface Reject {
  readonly reason: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeJson(value: Hello | Challenge | Auth | Reject | Record<string, never>): Uint8Array {
  return enc.encode(JSON.stringify(value));
}

function parseObject(body: Uint8Array): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(dec.decode(body));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const HEX_NONCE_RE = /^[0-9a-f]{64}$/;

export function decodeHello(body: Uint8Array): Hello | undefined {
  const o = parseObject(body);
  if (o === undefined) return undefined;
  const { v, cluster, from, to, nonce, encrypt } = o;
  if (typeof v !== 'number' || typeof cluster !== 'string' || !isNodeId(from) || !isNodeId(to)) return undefined;
  if (typeof nonce !== 'string' || !HEX_NONCE_RE.test(nonce) || typeof encrypt !== 'boolean') return undefined;
  return { v, cluster, from, to, nonce, encrypt };
}

export function decodeChallenge(body: Uint8Array): Challenge | undefined {
  const o = parseObject(body);
  if (o === undefined || typeof o.nonce !== 'string' || !HEX_NONCE_RE.test(o.nonce) || typeof o.proof !== 'string') return undefined;
  return { nonce: o.nonce, proof: o.proof };
}

export function decodeAuth(body: Uint8Array): Auth | undefined {
  const o = parseObject(body);
  return o !== undefined && typeof o.proof === 'string' ? { proof: o.proof } : undefined;
}

export function decodeReject(body: Uint8Array): Reject {
  const o = parseObject(body);
  return { reason: o !== undefined && typeof o.reason === 'string' ? o.reason.slice(0, 200) : 'unreadable reason' };
}

export function newNonce(): string {
  return randomBytes(NONCE_BYTES).toString('hex');
}

function transcript(hello: Hello, listenerNonce: string): string {
  return [hello.v, hello.cluster, hello.from, hello.to, hello.nonce, listenerNonce, hello.encrypt ? 'enc' : 'plain'].join('\n');
}

/** The proof one side sends: role "L" (listener) or "D" (dialer). Hex HMAC-SHA256. */
export function proof(key: Uint8Array, role: 'L' | 'D', hello: Hello, listenerNonce: string): string {
  return createHmac('sha256', key).update(`clusterkit-peer-auth ${role}\n`).update(transcript(hello, listenerNonce)).digest('hex');
}

/** Constant-time comparison of an expected and a received proof. */
export function proofMatches(expected: string, received: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(received, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The AES-256-GCM key for DATA frames of one connection. */
export function frameKey(key: Uint8Array, hello: Hello, listenerNonce: string): Uint8Array {
  const salt = Buffer.concat([Buffer.from(hello.nonce, 'hex'), Buffer.from(listenerNonce, 'hex')]);
  return new Uint8Array(hkdfSync('sha256', key, salt, `clusterkit frames ${hello.from} > ${hello.to}`, 32));
}

function gcmNonce(counter: number): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(Math.floor(counter / 0x1_0000_0000), 4);
  iv.writeUInt32BE(counter >>> 0, 8);
  return iv;
}

/** One direction of an encrypted link: seals (or opens) frames in order. */
export class FrameSealer {
  private counter = 0;
  private readonly key: Uint8Array;
  constructor(key: Uint8Array) {
    this.key = key;
  }
  seal(plain: Uint8Array): Uint8Array {
    const c = createCipheriv('aes-256-gcm', this.key, gcmNonce(this.counter++));
    const head = c.update(plain);
    const tail = c.final();
    return Buffer.concat([head, tail, c.getAuthTag()]);
  }
  /** Returns the plaintext, or undefined if the tag does not verify. */
  open(sealed: Uint8Array): Uint8Array | undefined {
    if (sealed.length < GCM_TAG_BYTES) return undefined;
    const d = createDecipheriv('aes-256-gcm', this.key, gcmNonce(this.counter++));
    d.setAuthTag(sealed.subarray(sealed.length - GCM_TAG_BYTES));
    try {
      const head = d.update(sealed.subarray(0, sealed.length - GCM_TAG_BYTES));
      return Buffer.concat([head, d.final()]);
    } catch {
      return undefined;
    }
  }
}
