/**
 * P2P overlays (seed 04.4): pure (Cyclon + flooding / random walks), hybrid (super-peers) and
 * structured (Chord, Kademlia) sans-IO cores, their hosts and graph helpers.
 */
export type { ChordConfig, ChordMsg, ChordNodeOptions, ChordPeer, ChordResult } from './chord.ts';
export { ChordNode, defaultChordConfig, sortRing, successorOf, validateChordConfig } from './chord.ts';
export { stronglyConnected, undirectedOverlay } from './graph.ts';
export type { Outgoing as OverlayOutgoing, OverlayCore, OverlaySimOptions } from './host.ts';
export { DirectNetwork, OverlaySimNode } from './host.ts';
export { hashId, ID_BITS_MAX, inHalfOpen, inOpen, ringDistance, xorDistance } from './ids.ts';
export type { KadContact, KademliaConfig, KademliaMsg, KademliaNodeOptions, KademliaResult } from './kademlia.ts';
export { defaultKademliaConfig, KademliaNode, kClosest, validateKademliaConfig } from './kademlia.ts';
export type { SuperInfo, SuperPeerConfig, SuperPeerMsg, SuperPeerNodeOptions, SuperPeerSearchResult } from './superpeer.ts';
export { defaultSuperPeerConfig, SuperPeerNode, validateSuperPeerConfig } from './superpeer.ts';
export type { SearchMode, SearchResult, UnstructuredConfig, UnstructuredMsg, UnstructuredNodeOptions, ViewEntry } from './unstructured.ts';
export { defaultUnstructuredConfig, UnstructuredNode, validateUnstructuredConfig } from './unstructured.ts';
