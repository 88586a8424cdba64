/**
 * The transcript language for the Raft core (after etcd-io/raft's datadriven testdata). A file
 * is a sequence of blocks:
 *
 *   command args...
 *   ----
 *   expected output (one or more lines)
 *   <blank line>
 *
 * Commands:
 *   add-nodes N [key=value ...]       N voters n1..nN; config keys: prevote, checkquorum, lease,
 *                                     maxsize, inflight, chunk, forwarding, batch, election, heartbeat
 *   add-spare ID                      a server outside the configuration (bootstrapped like the others)
 *   campaign ID                       start an election now
 *   propose ID VALUE                  propose an entry (prints the error when refused)
 *   tick ID [N] | tick-all [N]        advance logical time
 *   process-ready [ID ...]            drain Ready of the nodes (all by default), printing what happened
 *   deliver-msgs [drop=ID,..] [type=T,..]  deliver queued messages (matching type=), dropping those to/from drop=
 *   stabilize                         process and deliver until quiet, printing every message
 *   partition A,B C,D | isolate ID | heal
 *   compact ID INDEX                  snapshot at INDEX and discard the log up to it
 *   transfer-leader FROM TO
 *   conf-change ID add-voter=X add-learner=Y remove=Z ...   (no changes: leave joint)
 *   read-index ID CONTEXT
 *   status [ID ...]                   role, term, leader, commit, applied, last index, configuration
 *   values [ID ...]                   applied application values
 */
import { encodeText, MemoryCluster } from '../../../src/consensus/raft/memory-cluster.ts';
import type { RaftConfig } from '../../../src/consensus/raft/config.ts';
import type { ConfChangeItem, ConfState, Entry, Message } from '../../../src/consensus/raft/types.ts';

const dec = new TextDecoder();

export function fmtEntry(e: Entry): string {
  if (e.type === 'normal') return `${e.index}/${e.term} ${JSON.stringify(dec.decode(e.data))}`;
  if (e.change.changes.length === 0) return `${e.index}/${e.term} conf[leave-joint]`;
  return `${e.index}/${e.term} conf[${e.change.changes.map((c) => `${c.type} ${c.node}`).join(', ')}]`;
}

export function fmtMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} t${m.term}`;
  switch (m.type) {
    case 'append':
      return `${head} prev=${m.index}/${m.logTerm} commit=${m.commit}${m.entries.length > 0 ? ` [${m.entries.map(fmtEntry).join(', ')}]` : ''}`;
    case 'append-response':
      return m.reject ? `${head} reject index=${m.index} hint=${m.hintIndex}/${m.hintTerm}` : `${head} index=${m.index}`;
    case 'vote':
    case 'pre-vote':
      return `${head} last=${m.lastIndex}/${m.lastTerm}${m.transfer ? ' transfer' : ''}`;
    case 'vote-response':
    case 'pre-vote-response':
      return `${head} ${m.reject ? 'rejected' : 'granted'}`;
    case 'heartbeat':
      return `${head} commit=${m.commit}${m.context ? ` ctx=${m.context}` : ''}`;
    case 'heartbeat-response':
      return `${head}${m.context ? ` ctx=${m.context}` : ''}`;
    case 'snapshot':
      return `${head} snap=${m.metadata.index}/${m.metadata.term} offset=${m.offset}/${m.totalBytes} bytes=${m.data.byteLength}`;
    case 'snapshot-ack':
      return `${head} snap=${m.snapshotIndex} offset=${m.offset}`;
    case 'timeout-now':
      return head;
    case 'propose':
      return `${head} [${m.entries.map((e) => (e.type === 'normal' ? JSON.stringify(dec.decode(e.data)) : 'conf')).join(', ')}]`;
    case 'read-index':
      return `${head} ctx=${m.context}`;
    case 'read-index-response':
      return `${head} ctx=${m.context} index=${m.index}`;
    case 'transfer-leader':
      return `${head} target=${m.target}`;
  }
}

const CONFIG_KEYS: Record<string, (v: string) => Partial<RaftConfig>> = {
  prevote: (v) => ({ preVote: v === 'true' }),
  checkquorum: (v) => ({ checkQuorum: v === 'true' }),
  lease: (v) => (v === 'true' ? { readOnlyOption: 'lease-based' } : {}),
  maxsize: (v) => ({ maxSizePerMsgBytes: Number(v) }),
  inflight: (v) => ({ maxInflightMsgs: Number(v) }),
  chunk: (v) => ({ snapshotChunkBytes: Number(v) }),
  forwarding: (v) => ({ disableProposalForwarding: v !== 'true' }),
  batch: (v) => ({ batchAppends: v === 'true' }),
  election: (v) => ({ electionTimeoutTicks: Number(v) }),
  heartbeat: (v) => ({ heartbeatTicks: Number(v) }),
};

export class TranscriptRunner {
  private c: MemoryCluster | undefined;
  private initial: ConfState | undefined;

  private cluster(): MemoryCluster {
    if (!this.c) throw new Error('no cluster: use add-nodes first');
    return this.c;
  }

  private processNode(id: string, out: string[]): void {
    const c = this.cluster();
    const n = c.node(id);
    const appliedBefore = n.applied.length;
    const readsBefore = n.readStates.length;
    if (!c.process(id)) return;
    const rd = c.lastReady.get(id);
    if (!rd) return;
    if (rd.softState) out.push(`${id}: ${rd.softState.role} t${n.raft.term}${rd.softState.leader ? ` leader=${rd.softState.leader}` : ''}`);
    if (rd.snapshot) out.push(`${id}: restore snapshot ${rd.snapshot.metadata.index}/${rd.snapshot.metadata.term}`);
    for (const e of n.applied.slice(appliedBefore)) out.push(`${id}: apply ${fmtEntry(e)}`);
    for (const r of n.readStates.slice(readsBefore)) out.push(`${id}: read-state ${r.context} index=${r.index}`);
  }

  private processAll(ids: readonly string[], out: string[]): void {
    for (const id of ids) this.processNode(id, out);
  }

  private deliver(out: string[], drop: ReadonlySet<string>, types: ReadonlySet<string> | undefined): void {
    const c = this.cluster();
    const delivered = c.deliver(
      (m) => types === undefined || types.has(m.type),
      (m) => {
        const d = drop.has(m.to) || drop.has(m.from);
        if (d) out.push(`dropped ${fmtMessage(m)}`);
        return d;
      },
    );
    for (const m of delivered) out.push(fmtMessage(m));
  }

  run(line: string): string {
    const [cmd, ...args] = line.trim().split(/\s+/);
    const out: string[] = [];
    const kv = new Map<string, string>();
    const pos: string[] = [];
    for (const a of args) {
      const eq = a.indexOf('=');
      if (eq > 0) kv.set(a.slice(0, eq), a.slice(eq + 1));
      else pos.push(a);
    }
    const allIds = () => [...this.cluster().nodes.keys()];
    const idsOr = (xs: string[]) => (xs.length > 0 ? xs : allIds());
    try {
      switch (cmd) {
        case 'add-nodes': {
          const n = Number(pos[0]);
          let config: Partial<RaftConfig> = {};
          for (const [k, v] of kv) {
            const f = CONFIG_KEYS[k];
            if (!f) throw new Error(`unknown config key ${k}`);
            config = { ...config, ...f(v) };
          }
          const ids = Array.from({ length: n }, (_, i) => `n${i + 1}`);
          this.c = new MemoryCluster(ids, config, 1);
          this.initial = { voters: ids, learners: [], votersOutgoing: [], learnersNext: [] };
          out.push(`voters ${ids.join(',')}`);
          break;
        }
        case 'add-spare': {
          const id = pos[0] as string;
          this.cluster().addNode(id, this.initial as ConfState);
          out.push(`spare ${id}`);
          break;
        }
        case 'campaign':
          this.cluster()
            .node(pos[0] as string)
            .raft.campaign();
          break;
        case 'propose':
          this.cluster()
            .node(pos[0] as string)
            .raft.propose(encodeText(pos.slice(1).join(' ')));
          break;
        case 'tick':
          this.cluster().tick(pos[0] as string, Number(pos[1] ?? 1));
          break;
        case 'tick-all':
          this.cluster().tickAll(Number(pos[0] ?? 1));
          break;
        case 'process-ready':
          this.processAll(idsOr(pos), out);
          break;
        case 'deliver-msgs': {
          const drop = new Set((kv.get('drop') ?? '').split(',').filter((x) => x !== ''));
          const types = kv.has('type') ? new Set((kv.get('type') as string).split(',')) : undefined;
          this.deliver(out, drop, types);
          break;
        }
        case 'stabilize': {
          for (let i = 0; i < 200; i++) {
            this.processAll(allIds(), out);
            if (this.cluster().queue.length === 0) break;
            this.deliver(out, new Set(), undefined);
          }
          break;
        }
        case 'partition':
          this.cluster().partition(pos.map((g) => g.split(',')));
          break;
        case 'isolate':
          this.cluster().isolate(pos[0] as string);
          break;
        case 'heal':
          this.cluster().heal();
          break;
        case 'compact': {
          const id = pos[0] as string;
          this.cluster().compact(id, Number(pos[1]));
          out.push(`${id}: log starts at ${this.cluster().node(id).storage.firstIndex()}`);
          break;
        }
        case 'transfer-leader':
          this.cluster()
            .node(pos[0] as string)
            .raft.transferLeadership(pos[1] as string);
          break;
        case 'conf-change': {
          const changes: ConfChangeItem[] = [];
          for (const a of args.slice(1)) {
            const [type, node] = a.split('=') as [string, string];
            if (type !== 'add-voter' && type !== 'add-learner' && type !== 'remove') throw new Error(`bad change ${a}`);
            changes.push({ type, node });
          }
          this.cluster()
            .node(pos[0] as string)
            .raft.proposeConfChange({ changes });
          break;
        }
        case 'read-index':
          this.cluster()
            .node(pos[0] as string)
            .raft.readIndex(pos[1] as string);
          break;
        case 'status':
          for (const id of idsOr(pos)) {
            const st = this.cluster().node(id).raft.status();
            const cs = st.confState;
            const conf = `voters=${cs.voters.join(',')}${cs.votersOutgoing.length > 0 ? `&&${cs.votersOutgoing.join(',')}` : ''}${cs.learners.length > 0 ? ` learners=${cs.learners.join(',')}` : ''}`;
            out.push(`${id}: ${st.role} t${st.term} leader=${st.leader || '-'} commit=${st.commit} applied=${st.applied} last=${st.lastIndex} ${conf}`);
            for (const [pid, pr] of Object.entries(st.progress)) out.push(`  ${pid}: ${pr.state} match=${pr.match} next=${pr.next}${pr.isLearner ? ' learner' : ''}`);
          }
          break;
        case 'values':
          for (const id of idsOr(pos)) out.push(`${id}: ${JSON.stringify(this.cluster().node(id).values)}`);
          break;
        default:
          throw new Error(`unknown command ${cmd}`);
      }
    } catch (err) {
      out.push(`error: ${err instanceof Error ? err.message : String(err)}`);
    }
    return out.length > 0 ? out.join('\n') : 'ok';
  }
}

export interface Block {
  /** Comment lines (starting with #) just before the command. */
  comments: string[];
  command: string;
  expected: string;
}

export function parseTranscript(text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let comments: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (line.trim() === '') {
      i++;
      continue;
    }
    if (line.startsWith('#')) {
      comments.push(line);
      i++;
      continue;
    }
    const command = line;
    i++;
    if (lines[i] !== '----') throw new Error(`line ${i + 1}: expected ---- after ${JSON.stringify(command)}`);
    i++;
    const exp: string[] = [];
    while (i < lines.length && (lines[i] as string) !== '') exp.push(lines[i++] as string);
    blocks.push({ comments, command, expected: exp.join('\n') });
    comments = [];
  }
  return blocks;
}

export function renderTranscript(blocks: readonly Block[]): string {
  return blocks.map((b) => `${b.comments.map((c) => `${c}\n`).join('')}${b.command}\n----\n${b.expected}\n`).join('\n');
}
