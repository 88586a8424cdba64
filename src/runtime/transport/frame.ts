/**
 * Wire frames of the peer transport, PURE (bytes in, frames out). Every frame is a 9-byte
 * header and a body (integers big-endian):
 *
 *   offset  size  field
 *   0       4     body length in bytes (checked against the receiver's limit before buffering)
 *   4       4     CRC-32C of the kind byte and the body
 *   8       1     kind (FrameKind)
 *   9       n     body
 *
 * `FrameDecoder` is incremental: feed it whatever TCP delivers, it returns the whole frames
 * found so far and keeps the rest. A frame over the limit or with a bad checksum is an error
 * the connection cannot recover from (the byte stream has lost its framing or its integrity),
 * so the decoder stops for good and the caller drops the connection. Deliberately left out:
 * compression and multiplexing of several streams on one connection.
 */
import { crc32c } from '../../core/checksum.ts';

export const FRAME_HEADER_BYTES = 9;

export const FrameKind = {
  /** dialer -> listener: who I am, whom I want, my nonce. */
  hello: 1,
  /** listener -> dialer: listener nonce and its proof of the cluster key. */
  challenge: 2,
  /** dialer -> listener: dialer proof of the cluster key. */
  auth: 3,
  /** listener -> dialer: handshake accepted, data may flow. */
  welcome: 4,
  /** listener -> dialer: handshake refused, with a reason; the listener closes. */
  reject: 5,
  /** dialer -> listener: one encoded message (encrypted when the link is). */
  data: 6,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

const KINDS: ReadonlySet<number> = new Set(Object.values(FrameKind));

export interface WireFrame {
  readonly kind: FrameKind;
  readonly body: Uint8Array;
}

/** Writes one frame at `at` in `out` (which must have room); returns the offset after it. */
export function writeFrame(out: Uint8Array, at: number, kind: FrameKind, body: Uint8Array): number {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(at, body.length);
  out[at + 8] = kind;
  out.set(body, at + FRAME_HEADER_BYTES);
  view.setUint32(at + 4, crc32c(body, crc32c(out, 0, at + 8, at + 9)));
  return at + FRAME_HEADER_BYTES + body.length;
}

export function encodeFrame(kind: FrameKind, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + body.length);
  writeFrame(out, 0, kind, body);
  return out;
}

export type FrameDecodeError =
  | { readonly kind: 'oversized'; readonly bodyBytes: number; readonly limitBytes: number }
  | { readonly kind: 'checksum'; readonly frameKind: number }
  | { readonly kind: 'unknown-kind'; readonly frameKind: number };

export type FrameDecodeResult = { readonly frames: WireFrame[]; readonly error?: FrameDecodeError };

export class FrameDecoder {
  /** Received chunks not yet consumed; concatenated only once a whole frame is there. */
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  /** Bytes needed before the next frame can be decoded. */
  private needBytes = FRAME_HEADER_BYTES;
  private failed = false;
  /** Largest accepted body; can be raised after a handshake. */
  bodyBytesMax: number;

  constructor(bodyBytesMax: number) {
    this.bodyBytesMax = bodyBytesMax;
  }

  /** Bytes buffered but not yet part of a whole frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Feeds bytes; returns the whole frames decoded and, if the stream is broken, why. */
  push(chunk: Uint8Array): FrameDecodeResult {
    if (this.failed) return { frames: [] };
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.needBytes) return { frames: [] };
    let data: Uint8Array;
    if (this.chunks.length === 1) data = chunk;
    else {
      data = new Uint8Array(this.buffered);
      let off = 0;
      for (const c of this.chunks) {
        data.set(c, off);
        off += c.length;
      }
    }
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const frames: WireFrame[] = [];
    let at = 0;
    let error: FrameDecodeError | undefined;
    this.needBytes = FRAME_HEADER_BYTES;
    while (data.length - at >= FRAME_HEADER_BYTES) {
      const bodyBytes = view.getUint32(at);
      if (bodyBytes > this.bodyBytesMax) {
        error = { kind: 'oversized', bodyBytes, limitBytes: this.bodyBytesMax };
        break;
      }
      const end = at + FRAME_HEADER_BYTES + bodyBytes;
      if (end > data.length) {
        this.needBytes = end - at;
        break;
      }
      const kind = data[at + 8]!;
      if (crc32c(data, 0, at + 8, end) !== view.getUint32(at + 4)) {
        error = { kind: 'checksum', frameKind: kind };
        break;
      }
      if (!KINDS.has(kind)) {
        error = { kind: 'unknown-kind', frameKind: kind };
        break;
      }
      // Copy the body out: `data` may be a pooled socket buffer.
      frames.push({ kind: kind as FrameKind, body: data.slice(at + FRAME_HEADER_BYTES, end) });
      at = end;
    }
    if (error !== undefined) {
      this.failed = true;
      this.chunks = [];
      this.buffered = 0;
      return { frames, error };
    }
    const rest = data.slice(at);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return { frames };
  }
}
