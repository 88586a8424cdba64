/** Loopback helpers for proxy and client tests: small node:http backends on port 0. */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface TestBackend {
  readonly name: string;
  port: number;
  readonly address: string;
  hits: number;
  /** Last request headers seen. */
  lastHeaders: http.IncomingHttpHeaders;
  /** Status this backend answers with (default 200). */
  status: number;
  /** Stops listening and cuts every open connection (a crash, as seen from the network). */
  kill(): Promise<void>;
  /** Listens again on the same port. */
  revive(): Promise<void>;
}

export async function startBackend(name: string): Promise<TestBackend> {
  const sockets = new Set<Socket>();
  let server: http.Server;
  const b: TestBackend = {
    name,
    port: 0,
    get address() {
      return `127.0.0.1:${b.port}`;
    },
    hits: 0,
    lastHeaders: {},
    status: 200,
    async kill() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await closed;
    },
    async revive() {
      server = make();
      server.listen(b.port, '127.0.0.1');
      await once(server, 'listening');
    },
  };
  const make = () => {
    const s = http.createServer((req, res) => {
      b.hits++;
      b.lastHeaders = req.headers;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        res.writeHead(b.status, { 'content-type': 'text/plain', 'x-backend': name, connection: 'keep-alive', 'keep-alive': 'timeout=5' });
        res.end(body.length > 0 ? `${name} echo ${body}` : name);
      });
    });
    s.on('connection', (c: Socket) => {
      sockets.add(c);
      c.once('close', () => sockets.delete(c));
    });
    return s;
  };
  server = make();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  b.port = (server.address() as AddressInfo).port;
  return b;
}

/** Waits for `emitter` to emit `event` with an argument satisfying `pred`. */
export function waitFor<T>(emitter: NodeJS.EventEmitter, event: string, pred: (arg: T) => boolean): Promise<T> {
  return new Promise((resolve) => {
    const on = (arg: T) => {
      if (pred(arg)) {
        emitter.off(event, on);
        resolve(arg);
      }
    };
    emitter.on(event, on);
  });
}
