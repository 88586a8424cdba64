// Types for the parts of npm `hashring` (3.x) that the placement tests and benchmark use.
declare module 'hashring' {
  type Servers = string | readonly string[] | Record<string, number | { weight?: number; vnodes?: number }>;
  interface HashRingOptions {
    'vnode count'?: number;
    compatibility?: 'hash_ring' | 'ketama';
    replicas?: number;
    'max cache size'?: number;
    'default port'?: number;
  }
  class HashRing {
    constructor(servers: Servers, algorithm?: string | ((key: string) => Buffer | string), options?: HashRingOptions);
    get(key: string): string | undefined;
    range(key: string, size?: number, unique?: boolean): string[];
    add(servers: Servers): HashRing;
    remove(server: string): HashRing;
    readonly ring: readonly { value: number; server: string }[];
    readonly size: number;
  }
  export default HashRing;
}
