/**
 * Message codecs for the peer transport: the transport moves bytes; a codec turns a host's
 * messages into bytes and back. `decode` throws on malformed input (the transport counts and
 * drops that message). Deliberately left out: schema evolution; hosts version their payloads.
 */

export interface MessageCodec<M> {
  encode(msg: M): Uint8Array;
  decode(bytes: Uint8Array): M;
}

/** Identity codec: messages are already bytes. */
export const bytesCodec: MessageCodec<Uint8Array> = {
  encode: (msg) => msg,
  decode: (bytes) => bytes,
};

/** JSON codec for plain-data messages (no Uint8Array, Map or bigint inside). */
export function jsonCodec<M>(): MessageCodec<M> {
  const enc = new TextEncoder();
  const dec = new TextDecoder('utf-8', { fatal: true });
  return {
    encode: (msg) => enc.encode(JSON.stringify(msg)),
    decode: (bytes) => JSON.parse(dec.decode(bytes)) as M,
  };
}
