export type { MessageCodec } from './codec.ts';
export { bytesCodec, jsonCodec } from './codec.ts';
export type { FrameDecodeError, FrameDecodeResult, WireFrame } from './frame.ts';
export { encodeFrame, FRAME_HEADER_BYTES, FrameDecoder, FrameKind, writeFrame } from './frame.ts';
export type {
  PeerLinkState,
  PeerAddress,
  PeerStatus,
  PeerSendResult,
  TcpTransportOptions,
  TransportEvent,
  TransportLogger,
  TransportMetrics,
} from './tcp.ts';
export { backoffDelayMs, TcpTransport, TRANSPORT_DEFAULTS } from './tcp.ts';
