/**
 * `cpe-agent leg …` — the DHCP Login Event Generator (docs/leg.md).
 *   leg replay FILE        events of a pcap/pcapng capture (capture time is the clock)
 *   leg run --iface IF | --rdr-listen HOST:PORT    live operation
 *   leg show KEY | leg list | leg counters          queries of the subscriber database
 */
import type { Command } from 'commander';
import { AgentError } from '../../errors.ts';
import { createLogger, type Logger } from '../../log.ts';
import { parseConfig, parseSelector, readConfigFile, type LegConfig } from '../../leg/config.ts';
import { LegStore } from '../../leg/store.ts';
import { LegEngine } from '../../leg/engine.ts';
import { fileSink, streamSink, type EventSink, type LegEvent } from '../../leg/events.ts';
import { replayFile } from '../../leg/sources/replay.ts';
import { stat } from 'node:fs/promises';
import { captureArgs, startLiveCapture } from '../../leg/sources/live.ts';
import { listenRdr, parseHostPort } from '../../leg/rdr-server.ts';
import { counters, list, openReadOnly, show, type SubscriberView } from '../../leg/queries.ts';

export const DEFAULT_STATE_DIR = '/var/lib/cpe-agent/leg';

interface CommonOpts {
  config?: string;
  cable?: boolean;
  subscriberOption?: string;
  fallbackIp?: boolean;
  defaultPackage?: string;
  stateDir?: string;
  events?: string;
  json?: boolean;
  autoLogout?: boolean;
  logLevel?: string;
  trustedServer?: string;
  rdrAllow?: string;
}

/** `a,b , c` → ['a', 'b', 'c'] */
function commaList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The config file, then the flags on top; validated once. (Its `snmp` section: snmpSection.) */
export function buildConfig(o: CommonOpts): LegConfig {
  const input: Record<string, unknown> = o.config ? readConfigFile(o.config) : {};
  delete input.snmp;
  if (o.cable) input.cable = true;
  if (o.subscriberOption !== undefined) input.subscriberOption = parseSelector(o.subscriberOption).key;
  if (o.fallbackIp) input.fallbackToIp = true;
  if (o.defaultPackage !== undefined) {
    const policy = typeof input.policy === 'object' && input.policy !== null ? { ...(input.policy as Record<string, unknown>) } : {};
    policy.defaultPackage = o.defaultPackage;
    input.policy = policy;
  }
  if (o.autoLogout === false) input.autoLogout = false;
  if (o.stateDir !== undefined) input.stateDir = o.stateDir;
  if (o.events !== undefined) input.eventsFile = o.events;
  if (o.trustedServer !== undefined) input.trustedServers = commaList(o.trustedServer);
  if (o.rdrAllow !== undefined) {
    const rdr = typeof input.rdr === 'object' && input.rdr !== null ? { ...(input.rdr as Record<string, unknown>) } : {};
    rdr.allow = commaList(o.rdrAllow);
    input.rdr = rdr;
  }
  const cfg = parseConfig(input, o.config ?? 'flags');
  if (cfg.subscriberOption !== null) parseSelector(cfg.subscriberOption);
  for (const s of cfg.policy.options) parseSelector(s);
  return cfg;
}

/** The config file's `snmp` section (validated by agent/snmp/leg.ts), if any. */
function snmpSection(o: CommonOpts): unknown {
  return o.config ? readConfigFile(o.config).snmp : undefined;
}

function textLine(e: LegEvent): string {
  const parts = [e.time, e.event.padEnd(11), e.subscriber ?? '-', e.ip ?? '-'];
  if (e.modem) parts.push('modem');
  if (e.leaseSeconds !== null) parts.push(`lease=${e.leaseSeconds}`);
  if (e.package !== null) parts.push(`package=${e.package}`);
  if (e.reason !== null) parts.push(`reason=${e.reason}`);
  return parts.join(' ');
}

/** Set when stdout's reader went away (`leg replay … | head`): stop quietly, like other filters. */
let stdoutClosed = false;
let stdoutWatched = false;
function watchStdout(onClose: () => void): void {
  if (stdoutWatched) return;
  stdoutWatched = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') {
      stdoutClosed = true;
      onClose();
    } else throw e;
  });
}

function makeSink(cfg: LegConfig, json: boolean): EventSink {
  if (cfg.eventsFile) return fileSink(cfg.eventsFile);
  if (json) return streamSink(process.stdout);
  const out = streamSink(process.stdout);
  return {
    write: (s) => out.write(s.split('\n').filter(Boolean).map((l) => textLine(JSON.parse(l) as LegEvent) + '\n').join('')),
    close: () => out.close(),
  };
}

function addCommon(c: Command): Command {
  return c
    .option('--config <file>', 'LEG configuration (JSON, see config/leg.example.json)')
    .option('--cable', 'cable mode: subscriber = modem MAC from option 82 remote-ID (Cisco is_cable)')
    .option('--subscriber-option <code>', 'option holding the subscriber ID: CODE or 82.SUB (82.1 circuit-ID, 82.2 remote-ID, 82.6 subscriber-ID)')
    .option('--fallback-ip', 'use IP_a.b.c.d when the subscriber option is absent')
    .option('--default-package <name>', 'package for logons without package information')
    .option('--no-auto-logout', 'do not log out expired leases')
    .option('--state-dir <dir>', 'subscriber database directory (persistent)')
    .option('--events <file>', 'append events (JSON lines) to this file instead of stdout')
    .option('--json', 'events as JSON lines (default: one text line per event)')
    .option('--trusted-server <ip,…>', 'act only on ACKs from these DHCP servers (option 54, else the source address); RELEASE/DECLINE only when sent to them')
    .option('--log-level <level>', 'log level (info, warn, debug …)');
}

function logger(o: CommonOpts): Logger {
  return createLogger({ level: o.logLevel ?? process.env.CPE_AGENT_LOG_LEVEL ?? 'warn' });
}

/** SIGINT/SIGTERM set a flag (and run `onStop`) instead of killing the process mid-batch. */
function onSignals(onStop: () => void): () => void {
  const h = (): void => onStop();
  process.once('SIGINT', h);
  process.once('SIGTERM', h);
  return () => {
    process.off('SIGINT', h);
    process.off('SIGTERM', h);
  };
}

async function replayCmd(file: string, o: CommonOpts): Promise<void> {
  const cfg = buildConfig(o);
  // an empty file is no capture (as `decode pcap`); a FIFO is read as a stream and checked by the reader
  const st = await stat(file).catch(() => undefined);
  if (st?.isFile() && st.size === 0) throw new AgentError('PCAP_TRUNCATED', `${file}: empty input, not a pcap or pcapng capture`, { offset: 0 });
  const log = logger(o);
  const store = new LegStore(cfg.stateDir);
  const sink = makeSink(cfg, o.json === true);
  let stop = false;
  const off = onSignals(() => (stop = true));
  watchStdout(() => (stop = true));
  try {
    const engine = new LegEngine(cfg, store, sink, log);
    const r = await replayFile(engine, file, { shouldStop: () => stop });
    log.info({ file, records: r.records, resumedAfter: r.skipped, stopped: r.stopped }, 'replay done');
    if (r.stopped && !stdoutClosed) process.exitCode = 130;
  } finally {
    off();
    sink.close();
    store.close();
  }
}

async function runCmd(o: CommonOpts & { iface?: string; rdrListen?: string; tcpdump?: string }, version: string): Promise<void> {
  if (!o.iface && !o.rdrListen) throw new AgentError('CLI_INVALID', 'leg run needs --iface IF and/or --rdr-listen HOST:PORT');
  const cfg = buildConfig({ ...o, stateDir: o.stateDir ?? DEFAULT_STATE_DIR });
  const snmpInput = snmpSection(o);
  // net-snmp is loaded only when the config has an snmp section
  const legSnmp = snmpInput === undefined ? undefined : await import('../../snmp/leg.ts');
  const snmpCfg = legSnmp?.parseLegSnmp(snmpInput, o.config);
  const log = createLogger({ level: o.logLevel ?? process.env.CPE_AGENT_LOG_LEVEL ?? 'info' });
  const rdrAddr = o.rdrListen ? parseHostPort(o.rdrListen) : undefined;
  if (o.iface) captureArgs(o.iface); // validates the name before anything is opened
  const store = new LegStore(cfg.stateDir);
  const out = makeSink(cfg, o.json === true);
  let snmpFace: Awaited<ReturnType<NonNullable<typeof legSnmp>['startLegSnmp']>> | undefined;
  try {
    if (legSnmp && snmpCfg) snmpFace = await legSnmp.startLegSnmp(snmpCfg, cfg.stateDir as string, version, log);
  } catch (e) {
    out.close();
    store.close();
    throw e;
  }
  const face = snmpFace;
  const sink: EventSink = face ? { write: (s) => (out.write(s), face.events(s)), close: () => out.close() } : out;
  const engine = new LegEngine(cfg, store, sink, log);
  const tasks: Promise<void>[] = [];
  let stopLive: (() => void) | undefined;
  let rdr: Awaited<ReturnType<typeof listenRdr>> | undefined;
  let wake: () => void = () => undefined;
  const stopped = new Promise<void>((r) => (wake = r));
  const off = onSignals(() => {
    log.info('stopping');
    wake();
  });
  watchStdout(() => {
    log.warn('stdout closed: stopping');
    wake();
  });
  try {
    if (o.iface) {
      const live = startLiveCapture(engine, o.iface, log, { flushMs: cfg.batch.maxDelayMs, ...(o.tcpdump ? { tcpdump: o.tcpdump } : {}) });
      stopLive = live.stop;
      tasks.push(live.done);
    }
    let timer: NodeJS.Timeout | undefined;
    if (rdrAddr) {
      rdr = await listenRdr(engine, rdrAddr.host, rdrAddr.port, log, cfg.rdr);
      if (!o.iface) {
        timer = setInterval(() => {
          engine.tick(Date.now());
          engine.flush();
        }, cfg.batch.maxDelayMs);
      }
    }
    // Runs until a signal, or until the capture fails (its rejection ends the command).
    await Promise.race([stopped, ...tasks]);
    if (timer) clearInterval(timer);
  } finally {
    off();
    stopLive?.();
    await Promise.allSettled(tasks);
    await rdr?.close();
    engine.flush();
    await face?.close();
    sink.close();
    store.close();
  }
}

function printSubscriber(v: SubscriberView): void {
  process.stdout.write(`${v.subscriber}  package=${v.package ?? '-'}${v.modem ? '  modem' : ''}  updated=${v.updated}\n`);
  for (const m of v.ips) {
    const state = m.active ? `expires=${m.expires ?? 'never'}` : `ended=${m.endReason ?? '?'} at ${m.updated}`;
    process.stdout.write(`  ${m.ip.padEnd(15)} ${m.chaddr}  lease=${m.leaseSeconds}  ${state}\n`);
  }
}

function withDb<T>(o: { stateDir?: string }, fn: (db: ReturnType<typeof openReadOnly>) => T): T {
  const db = openReadOnly(o.stateDir ?? DEFAULT_STATE_DIR);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

export function registerLeg(program: Command): void {
  const leg = program.command('leg').description('DHCP login event generator: DHCP transactions → subscriber logon/logout');

  addCommon(leg.command('replay <file>').description('replay a pcap/pcapng capture; capture time is the clock')).action((file: string, o: CommonOpts) => replayCmd(file, o));

  addCommon(
    leg
      .command('run')
      .description('live: capture DHCP on an interface (tcpdump) and/or receive SCE RDRs over TCP')
      .option('--iface <if>', 'capture interface')
      .option('--rdr-listen <host:port>', 'listen for RDRv1 from SCE DHCP sniffers')
      .option('--rdr-allow <cidr,…>', 'peers allowed to send RDRs (default: loopback only; config rdr.allow)')
      .option('--tcpdump <path>', 'tcpdump binary', 'tcpdump'),
  ).action((o: CommonOpts & { iface?: string; rdrListen?: string; tcpdump?: string }) => runCmd(o, program.version() ?? ''));

  leg
    .command('show <subscriber-or-ip>')
    .description('one subscriber (by ID, or by an IP it holds) with its IP mappings')
    .option('--state-dir <dir>', 'subscriber database directory', DEFAULT_STATE_DIR)
    .option('--json', 'JSON output')
    .action((key: string, o: { stateDir?: string; json?: boolean }) => {
      const v = withDb(o, (db) => show(db, key));
      if (!v) {
        process.stderr.write(`cpe-agent: no subscriber or IP ${key}\n`);
        process.exitCode = 1;
        return;
      }
      if (o.json) process.stdout.write(JSON.stringify(v) + '\n');
      else printSubscriber(v);
    });

  leg
    .command('list')
    .description('subscribers with their active IP mappings')
    .option('--state-dir <dir>', 'subscriber database directory', DEFAULT_STATE_DIR)
    .option('--json', 'JSON output')
    .action((o: { stateDir?: string; json?: boolean }) => {
      const all = withDb(o, (db) => list(db));
      if (o.json) process.stdout.write(JSON.stringify(all) + '\n');
      else for (const v of all) printSubscriber(v);
    });

  leg
    .command('counters')
    .description('transactions, events, rejections by reason, ignored messages by type, malformed input')
    .option('--state-dir <dir>', 'subscriber database directory', DEFAULT_STATE_DIR)
    .option('--json', 'JSON output')
    .action((o: { stateDir?: string; json?: boolean }) => {
      const c = withDb(o, (db) => counters(db));
      if (o.json) process.stdout.write(JSON.stringify(c) + '\n');
      else for (const [k, v] of Object.entries(c)) process.stdout.write(`${k.padEnd(40)} ${v}\n`);
    });
}
