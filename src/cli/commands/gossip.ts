/**
 * `clusterkit gossip`: run a SWIM member over UDP/TCP (`agent`), list a running agent's view
 * (`members`), generate an encryption key (`keygen`).
 */
import type { Command } from 'commander';
import { presetConfig, SWIM_PRESETS, type SwimPreset, swimConfig } from '../../membership/swim/config.ts';
import type { SwimEvent } from '../../membership/swim/member.ts';
import { queryAgentStatus, SwimAgent } from '../../runtime/swim/agent.ts';
import { Keyring } from '../../runtime/swim/keyring.ts';
import { commandGroup, intFlag, printJson, table, UsageError } from '../util.ts';

function collect(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim()).filter((s) => s.length > 0)];
}

function presetFlag(value: string): SwimPreset {
  if (!(SWIM_PRESETS as readonly string[]).includes(value)) {
    throw new UsageError(`--preset must be one of ${SWIM_PRESETS.join(', ')}; got ${JSON.stringify(value)}`);
  }
  return value as SwimPreset;
}

interface AgentFlags {
  name: string;
  bind: string;
  advertise?: string;
  join: string[];
  key: string[];
  preset: string;
  meta?: string;
  json?: boolean;
  probeIntervalMs?: number;
  lifeguard: boolean;
}

function printEvent(e: SwimEvent, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ event: e.type, name: e.member.name, address: e.member.address, incarnation: e.member.incarnation, state: e.member.state, meta: e.member.meta, source: e.source })}\n`);
  } else {
    process.stdout.write(`${new Date().toISOString()} ${e.type.padEnd(7)} ${e.member.name} ${e.member.address} incarnation=${e.member.incarnation}${e.type === 'suspect' || e.type === 'fail' ? ` by=${e.source}` : ''}\n`);
  }
}

export function registerGossip(program: Command): void {
  const gossip = commandGroup(program, 'gossip', 'Gossip: SWIM membership and epidemic dissemination');

  gossip
    .command('agent')
    .description('run a SWIM member: prints membership events until interrupted (SIGINT/SIGTERM leave gracefully)')
    .requiredOption('--name <name>', 'member name, unique in the cluster')
    .option('--bind <host:port>', 'UDP and TCP address to bind (port 0: any free port)', '127.0.0.1:7946')
    .option('--advertise <host:port>', 'address announced to other members (default: the bound address)')
    .option('--join <host:port>', 'seed member to join through (repeatable, or comma-separated)', collect, [])
    .option('--key <base64>', 'AES-256-GCM key, 32 bytes base64 (repeatable: the first encrypts, all decrypt)', collect, [])
    .option('--preset <name>', `timing preset: ${SWIM_PRESETS.join(', ')}`, 'lan')
    .option('--probe-interval-ms <ms>', 'override the preset protocol period', intFlag('--probe-interval-ms', { min: 10, max: 600_000 }))
    .option('--no-lifeguard', 'plain SWIM: no local health multiplier, fixed suspicion timeout, no buddy system or nacks')
    .option('--meta <text>', 'node metadata (UTF-8, at most 512 bytes)')
    .option('--json', 'print one JSON object per line')
    .action(async (flags: AgentFlags) => {
      const base = presetConfig(presetFlag(flags.preset));
      const overrides: Parameters<typeof swimConfig>[0] = { lifeguard: flags.lifeguard };
      if (flags.probeIntervalMs !== undefined) {
        overrides.probeIntervalMs = flags.probeIntervalMs;
        overrides.probeTimeoutMs = Math.max(1, Math.min(base.probeTimeoutMs, Math.floor(flags.probeIntervalMs / 2)));
      }
      const config = swimConfig(overrides, base);
      const keyring = flags.key.length > 0 ? Keyring.fromBase64(flags.key) : undefined;
      const agent = await SwimAgent.start({
        name: flags.name,
        bind: flags.bind,
        config,
        ...(flags.advertise !== undefined ? { advertise: flags.advertise } : {}),
        ...(flags.meta !== undefined ? { meta: flags.meta } : {}),
        ...(keyring !== undefined ? { keyring } : {}),
      });
      const json = flags.json === true;
      agent.onEvent((e) => printEvent(e, json));
      if (json) process.stdout.write(`${JSON.stringify({ event: 'listening', name: flags.name, address: agent.address, encrypted: keyring !== undefined })}\n`);
      else process.stdout.write(`${flags.name} listening on ${agent.address} (udp+tcp, preset ${flags.preset}${keyring ? ', encrypted' : ''})\n`);
      if (flags.join.length > 0) {
        try {
          const n = await agent.join(flags.join);
          if (json) process.stdout.write(`${JSON.stringify({ event: 'joined', seeds: n })}\n`);
          else process.stdout.write(`joined through ${n} of ${flags.join.length} seed(s)\n`);
        } catch (err) {
          await agent.close();
          throw err;
        }
      }
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void agent.leave(Math.min(2000, config.gossipIntervalMs * 5 + 100)).then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });

  gossip
    .command('members')
    .description("list a running agent's view of the cluster (connects over loopback TCP)")
    .requiredOption('--agent <host:port>', 'the agent address (its --bind address)')
    .option('--stats', 'also print the agent counters (packets, rejections by reason, decryption failures)')
    .option('--json', 'print JSON (members and counters)')
    .action(async (flags: { agent: string; json?: boolean; stats?: boolean }) => {
      const status = await queryAgentStatus(flags.agent);
      if (flags.json === true) {
        printJson(status);
        return;
      }
      if (flags.stats === true) {
        const { rejected, ...counters } = status.stats;
        const rows: [string, number][] = [['local health score', status.health], ...Object.entries(counters), ...Object.entries(rejected).map(([k, v]): [string, number] => [`rejected ${k}`, v])];
        process.stdout.write(`${table(['counter', 'value'], rows)}\n\n`);
      }
      process.stdout.write(
        `${table(
          ['name', 'address', 'state', 'incarnation', 'meta'],
          status.members.map((m) => [m.name, m.address, m.state, m.incarnation, m.meta]),
        )}\n`,
      );
    });

  gossip
    .command('keygen')
    .description('print a fresh random AES-256-GCM key (base64) for --key')
    .action(() => {
      process.stdout.write(`${Keyring.generateKey()}\n`);
    });
}
