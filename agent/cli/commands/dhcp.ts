/**
 * `cpe-agent dhcp --iface IF --vendor-class VC [--once] [--json] [--release] [--state-dir DIR]
 *                 [--no-arp-check] [--resolv-conf PATH] [--timeout SEC] [--log-format text|json]`
 *
 * Runs the DHCP client on IF (logs on stderr). With --once it prints the bound lease on stdout
 * (one JSON object with --json, else a table) and exits, leaving the address configured;
 * --release then sends RELEASE and removes the address. Without --once it runs until
 * SIGTERM/SIGINT (renewing/rebinding), printing every ACK, and stops cleanly (releasing with
 * --release). This is the operator's own tool: option 43 is printed complete, password included.
 */
import type { Command } from 'commander';
import type { Lease } from '../../dhcp/lease.ts';
import { DhcpRunner } from '../../dhcp/runner.ts';
import { IpNet } from '../../../platform/net/ip.ts';
import { createLogger, type LogFormat } from '../../log.ts';
import { AgentError } from '../../errors.ts';
import { offerTable } from './decode.ts';

interface DhcpCliOptions {
  iface: string;
  vendorClass: string;
  once?: boolean;
  json?: boolean;
  release?: boolean;
  stateDir?: string;
  arpCheck: boolean;
  resolvConf: string;
  timeout: string;
  logFormat: string;
}

/** The printed view of a lease: the contract fields first, in this order. */
export function leaseView(l: Lease): Record<string, unknown> {
  const v: Record<string, unknown> = {
    iface: l.iface,
    vendorClass: l.vendorClass,
    address: l.address,
    prefixLength: l.prefixLength,
    routers: l.routers,
    dns: l.dns,
    serverId: l.serverId,
    leaseSeconds: l.leaseSeconds,
    renewSeconds: l.renewSeconds,
    rebindSeconds: l.rebindSeconds,
  };
  if (l.domain !== undefined) v.domain = l.domain;
  v.option43 = l.option43 ?? null;
  if (l.option43Hex !== undefined) v.option43Hex = l.option43Hex;
  if (l.option43Error !== undefined) v.option43Error = l.option43Error;
  return v;
}

export function leaseTable(l: Lease): string {
  const rows: [string, string][] = [
    ['iface', l.iface],
    ['vendorClass', l.vendorClass],
    ['address', l.address],
    ['prefixLength', String(l.prefixLength)],
    ['routers', l.routers.join(', ') || '-'],
    ['dns', l.dns.join(', ') || '-'],
    ['serverId', l.serverId],
    ['leaseSeconds', String(l.leaseSeconds)],
    ['renewSeconds', String(l.renewSeconds)],
    ['rebindSeconds', String(l.rebindSeconds)],
  ];
  if (l.domain !== undefined) rows.push(['domain', l.domain]);
  if (l.option43Hex !== undefined) rows.push(['option43Hex', l.option43Hex]);
  if (l.option43Error !== undefined) rows.push(['option43Error', `[${l.option43Error.code}] ${l.option43Error.message}`]);
  const w = Math.max(...rows.map((r) => r[0].length));
  let text = rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + '\n';
  if (l.option43) {
    text += 'option43\n' + offerTable(l.option43, 'cts', l.vendorClass).split('\n').map((x) => `  ${x}`).join('\n') + '\n';
  } else if (l.option43Hex === undefined) {
    text += `option43${' '.repeat(w - 6)}(none sent)\n`;
  }
  return text;
}

function printLease(l: Lease, json: boolean | undefined): void {
  process.stdout.write(json ? JSON.stringify(leaseView(l)) + '\n' : leaseTable(l));
}

function parseTimeout(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || n > 86_400) throw new AgentError('CLI_BAD_ARGUMENT', `--timeout must be 1..86400 seconds, got ${JSON.stringify(text)}`);
  return n * 1000;
}

async function runDhcp(o: DhcpCliOptions): Promise<void> {
  if (o.logFormat !== 'text' && o.logFormat !== 'json') throw new AgentError('CLI_BAD_ARGUMENT', `--log-format must be text or json`);
  if (o.release && !o.once) process.stderr.write('cpe-agent: --release without --once: the lease is released on SIGTERM/SIGINT\n');
  const timeoutMs = parseTimeout(o.timeout);
  const log = createLogger({ format: o.logFormat as LogFormat });
  const net = new IpNet({ resolvConf: o.resolvConf });
  const runner = new DhcpRunner({
    iface: o.iface,
    vendorClass: o.vendorClass,
    net,
    log,
    arpCheck: o.arpCheck,
    ...(o.stateDir !== undefined ? { stateDir: o.stateDir } : {}),
    ...(o.once ? {} : { onAck: (l: Lease) => printLease(l, o.json) }),
    onLost: (reason) => log.warn({ reason }, 'lease lost'),
  });
  const signalled = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  await runner.start();

  if (o.once) {
    let lease: Lease;
    try {
      lease = await Promise.race([
        runner.waitForLease(timeoutMs),
        signalled.then((sig) => {
          throw new AgentError('DHCP_STOPPED', `interrupted by ${sig} before a lease was bound`, { iface: o.iface });
        }),
      ]);
    } catch (e) {
      await runner.stop();
      throw e;
    }
    printLease(lease, o.json);
    if (o.release) await runner.release();
    else await runner.stop();
    return;
  }

  const signal = await signalled;
  log.info({ signal }, o.release ? 'stopping: releasing the lease' : 'stopping');
  if (o.release) await runner.release();
  else await runner.stop();
}

export function registerDhcp(program: Command): void {
  program
    .command('dhcp')
    .description('run the DHCPv4 client on an interface (option 60 vendor class, option 43 offer)')
    .requiredOption('--iface <name>', 'WAN interface')
    .requiredOption('--vendor-class <vc>', 'option 60 vendor class, e.g. FS-0900E (domestic) or ESH-3105 (business)')
    .option('--once', 'exit after the first lease is bound, printing it')
    .option('--json', 'print the lease as one JSON object')
    .option('--release', 'send RELEASE and remove the address before exiting')
    .option('--state-dir <dir>', 'remember the lease here (INIT-REBOOT after a restart)')
    .option('--no-arp-check', 'do not ARP-probe the offered address')
    .option('--resolv-conf <path>', 'where to write DNS servers', '/etc/resolv.conf')
    .option('--timeout <sec>', 'with --once: give up after this many seconds', '60')
    .option('--log-format <fmt>', 'text or json (stderr)', 'text')
    .action(async (opts: DhcpCliOptions) => {
      await runDhcp(opts);
    });
}
