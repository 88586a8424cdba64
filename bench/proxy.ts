/**
 * Reverse-proxy throughput on loopback (issue 7 "Measure"): three nginx backends answering
 * 200, then `wrk -t1 -c64` against, in the same run: the backend directly, clusterkit proxy,
 * nginx (round robin, upstream keepalive), HAProxy (roundrobin, http-reuse always) and
 * node-http-proxy (npm http-proxy, default options). Everything is started and stopped here.
 *
 * Needs nginx, haproxy and wrk on PATH (Debian: apt-get install nginx-light haproxy wrk).
 * usage: node --import tsx bench/proxy.ts [--seconds 8] [--policies round-robin,p2c] [--connections 64] [--rounds 1]
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    policies: { type: 'string', default: 'round-robin,p2c' },
    connections: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '1' },
    only: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const conns = Number(values.connections);
const rounds = Number(values.rounds);

for (const tool of ['nginx', 'haproxy', 'wrk']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    process.stderr.write(`bench/proxy: ${tool} not found on PATH (Debian: apt-get install nginx-light haproxy wrk)\n`);
    process.exit(2);
  }
}

const BASE = 29100;
const backends = [BASE + 1, BASE + 2, BASE + 3];
const policies = values.policies.split(',');
const ports = { nginx: BASE + 10, haproxy: BASE + 11, httpProxy: BASE + 13 };
const clusterkitPorts = policies.map((_, i) => BASE + 20 + i);
const dir = mkdtempSync(path.join(os.tmpdir(), 'ck-bench-proxy-'));
const children: ChildProcess[] = [];

function start(cmd: string, args: string[], name: string): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  child.on('exit', (code, signal) => {
    if (!stopping && code !== 0) process.stderr.write(`${name} exited (${code ?? signal}): ${err}\n`);
  });
  children.push(child);
  return child;
}

function waitPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`port ${port} did not open`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

let stopping = false;
function stopAll(): void {
  stopping = true;
  for (const c of children) c.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
process.on('exit', stopAll);
process.on('SIGINT', () => process.exit(130));

writeFileSync(
  path.join(dir, 'backends.conf'),
  `worker_processes 1; daemon off; pid ${dir}/b.pid; error_log ${dir}/b.err;
events { worker_connections 4096; }
http { access_log off;
${backends.map((p, i) => `  server { listen 127.0.0.1:${p}; location / { return 200 "ok ${i + 1}\\n"; } }`).join('\n')} }
`,
);
writeFileSync(
  path.join(dir, 'lb.conf'),
  `worker_processes 1; daemon off; pid ${dir}/lb.pid; error_log ${dir}/lb.err;
events { worker_connections 4096; }
http { access_log off;
  upstream be { ${backends.map((p) => `server 127.0.0.1:${p};`).join(' ')} keepalive 64; }
  server { listen 127.0.0.1:${ports.nginx}; location / { proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
`,
);
writeFileSync(
  path.join(dir, 'haproxy.cfg'),
  `global
  maxconn 4096
  nbthread 1
defaults
  mode http
  timeout connect 2s
  timeout client 10s
  timeout server 10s
frontend fe
  bind 127.0.0.1:${ports.haproxy}
  default_backend be
backend be
  balance roundrobin
  http-reuse always
${backends.map((p, i) => `  server s${i + 1} 127.0.0.1:${p}`).join('\n')}
`,
);
const httpProxyScript = `
const http = require('node:http');
const httpProxy = require('http-proxy');
const targets = ${JSON.stringify(backends.map((p) => `http://127.0.0.1:${p}`))};
const proxy = httpProxy.createProxyServer({});
proxy.on('error', (err, req, res) => { res.writeHead(502); res.end(); });
let i = 0;
http.createServer((req, res) => { proxy.web(req, res, { target: targets[i++ % targets.length] }); }).listen(${ports.httpProxy}, '127.0.0.1');
`;

interface Result {
  name: string;
  rps: number;
  latency: string;
  errors: string;
}

function wrk(name: string, port: number): Result {
  const r = spawnSync('wrk', ['-t1', `-c${conns}`, `-d${seconds}s`, '--latency', `http://127.0.0.1:${port}/`], { encoding: 'utf8' });
  const out = r.stdout;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 'NaN');
  const p99 = /\s99%\s+(\S+)/.exec(out)?.[1] ?? '?';
  const p50 = /\s50%\s+(\S+)/.exec(out)?.[1] ?? '?';
  const errs = /Socket errors: (.*)/.exec(out)?.[1] ?? '';
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1];
  return { name, rps, latency: `p50 ${p50} p99 ${p99}`, errors: [errs, non2xx ? `non-2xx ${non2xx}` : ''].filter(Boolean).join('; ') || '-' };
}

async function main(): Promise<void> {
  start('nginx', ['-c', path.join(dir, 'backends.conf'), '-p', dir], 'nginx backends');
  start('nginx', ['-c', path.join(dir, 'lb.conf'), '-p', dir], 'nginx lb');
  start('haproxy', ['-f', path.join(dir, 'haproxy.cfg'), '-db'], 'haproxy');
  start(process.execPath, ['-e', httpProxyScript], 'node-http-proxy');
  const repo = path.resolve(import.meta.dirname, '..');
  policies.forEach((policy, i) => {
    start(
      process.execPath,
      [
        path.join(repo, 'bin/clusterkit.mjs'),
        'proxy',
        '--listen',
        `127.0.0.1:${clusterkitPorts[i]}`,
        ...backends.flatMap((p) => ['--backend', `127.0.0.1:${p}`]),
        '--policy',
        policy,
      ],
      `clusterkit proxy ${policy}`,
    );
  });
  const allPorts = [...Object.values(ports), ...clusterkitPorts];
  await Promise.all([...backends, ...allPorts].map((p) => waitPort(p)));
  // Warm up every proxy (JIT, connection pools) before measuring.
  for (const p of allPorts) spawnSync('wrk', ['-t1', `-c${conns}`, '-d2s', `http://127.0.0.1:${p}/`]);

  const targets: [string, number][] = [
    ['direct backend (no proxy)', backends[0] as number],
    ...policies.map((policy, i): [string, number] => [`clusterkit proxy (${policy})`, clusterkitPorts[i] as number]),
    ['nginx (round robin, keepalive 64)', ports.nginx],
    ['haproxy (roundrobin, http-reuse always)', ports.haproxy],
    ['node-http-proxy (npm http-proxy)', ports.httpProxy],
  ];
  const only = values.only;
  const all: Result[][] = [];
  for (let r = 0; r < rounds; r++) all.push(targets.filter(([n]) => only === undefined || n.includes(only) || n.startsWith('direct')).map(([n, p]) => wrk(n, p)));
  // Ratios use the first clusterkit policy listed.
  const ck = (rs: Result[]) => rs.find((x) => x.name.startsWith('clusterkit'))?.rps ?? Number.NaN;
  process.stdout.write(`wrk -t1 -c${conns} -d${seconds}s, ${os.cpus().length} CPUs, Node ${process.version}\n`);
  all.forEach((rs, i) => {
    if (rounds > 1) process.stdout.write(`round ${i + 1}\n`);
    process.stdout.write(`| target | req/s | latency | errors | clusterkit (${policies[0]}) / target |\n|---|---:|---|---|---:|\n`);
    for (const x of rs) process.stdout.write(`| ${x.name} | ${x.rps.toFixed(0)} | ${x.latency} | ${x.errors} | ${(ck(rs) / x.rps).toFixed(2)} |\n`);
  });
  if (rounds > 1) {
    // Rounds run back to back, so each round's ratio compares targets under similar load.
    const median = (xs: number[]) => {
      const s = xs.slice().sort((a, b) => a - b);
      const m = s.length >> 1;
      return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
    };
    process.stdout.write(`\nmedian over ${rounds} rounds\n| target | median req/s | median clusterkit (${policies[0]}) / target | per-round ratios |\n|---|---:|---:|---|\n`);
    (all[0] ?? []).forEach((x, i) => {
      const rps = all.map((rs) => rs[i]?.rps ?? Number.NaN);
      const ratios = all.map((rs) => ck(rs) / (rs[i]?.rps ?? Number.NaN));
      process.stdout.write(`| ${x.name} | ${median(rps).toFixed(0)} | ${median(ratios).toFixed(2)} | ${ratios.map((r) => r.toFixed(2)).join(', ')} |\n`);
    });
  }
}

await main();
process.exit(0);
