/**
 * `cpe-agent decode` — operator tools over the pure codecs:
 *   decode opt43 HEX [--vendor-class VC] [--json]   option 43 bytes → Option43Offer
 *   decode pcap FILE|- [--json]                       every DHCP message of a pcap/pcapng file or stdin
 *   decode dhcp HEX [--json]                          one DHCP message (UDP payload)
 * Bad input throws AgentError (main prints `cpe-agent: error [CODE]: …`, exit 2).
 */
import type { Command } from 'commander';
import { open, type FileHandle } from 'node:fs/promises';
import { AgentError, asAgentError } from '../../errors.ts';
import { fromHex } from '../../util/bytes.ts';
import { decodeOption43 } from '../../option43/codec.ts';
import { profileEntryForClass, profileForClass } from '../../option43/registry.ts';
import type { Option43Offer } from '../../option43/types.ts';
import { CaptureStream } from '../../pcap/reader.ts';
import { dhcpFromRecord } from '../../pcap/dhcp.ts';
import { packetToJson, packetToLine, summarizeMessage, VendorClassMemory } from '../../pcap/summary.ts';
import { decodeMessage } from '../../dhcp/codec.ts';

/**
 * Buffered stdout for long dumps: respects back-pressure (waits for 'drain'), and stops
 * quietly when the reader goes away (`decode pcap big.pcap | head`), instead of dying on EPIPE.
 */
class Out {
  private buf: string[] = [];
  private size = 0;
  closed = false;
  private readonly onError = (e: NodeJS.ErrnoException): void => {
    this.closed = true;
    if (e.code !== 'EPIPE') process.stderr.write(`cpe-agent: stdout: ${e.message}\n`);
  };
  constructor() {
    process.stdout.on('error', this.onError);
  }
  line(s: string): void {
    this.buf.push(s, '\n');
    this.size += s.length + 1;
  }
  get pending(): number {
    return this.size;
  }
  async flush(): Promise<void> {
    if (this.buf.length === 0 || this.closed) {
      this.buf = [];
      this.size = 0;
      return;
    }
    const text = this.buf.join('');
    this.buf = [];
    this.size = 0;
    if (!process.stdout.write(text) && !this.closed) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          process.stdout.off('drain', done);
          process.stdout.off('close', done);
          process.stdout.off('error', done);
          resolve();
        };
        process.stdout.on('drain', done);
        process.stdout.on('close', done);
        process.stdout.on('error', done);
      });
    }
  }
}

function hexArg(text: string, what: string): Uint8Array {
  try {
    return fromHex(text.trim().replace(/^0x/i, ''));
  } catch (e) {
    throw new AgentError('CLI_BAD_HEX', `${what}: ${asAgentError(e, 'CLI_BAD_HEX', 'hex').message}`);
  }
}

export function offerTable(offer: Option43Offer, profileName: string, vendorClass: string | undefined): string {
  const rows: [string, string][] = [['profile', `${profileName}${vendorClass ? ` (vendor class ${JSON.stringify(vendorClass)})` : ' (default)'}`]];
  const keys = ['protocol', 'server', 'user', 'password', 'softwareFile', 'softwareMd5', 'configFile', 'configMd5'] as const;
  for (const k of keys) {
    const v = offer[k];
    if (v !== undefined) rows.push([k, v]);
  }
  if (offer.flags !== undefined) rows.push(['flags', `0x${offer.flags.toString(16).padStart(4, '0')}`]);
  if (offer.urgent !== undefined) rows.push(['urgent', String(offer.urgent)]);
  for (const u of offer.unknown) rows.push([`unknown ${u.code}`, u.hex]);
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}

function decodeOpt43(hex: string, opts: { vendorClass?: string; json?: boolean }): void {
  const data = hexArg(hex, 'option 43');
  if (data.length === 0) throw new AgentError('OPT43_EMPTY', 'option 43: empty payload (give the option data as hex, e.g. 010100)', { length: 0 });
  const vc = opts.vendorClass;
  const profile = profileForClass(vc ?? '');
  const offer = decodeOption43(profile, data);
  if (opts.json) process.stdout.write(JSON.stringify(offer) + '\n');
  else {
    const entry = vc !== undefined ? profileEntryForClass(vc) : undefined;
    process.stdout.write(offerTable(offer, `${profile.name}${entry ? ` ${entry.segment}` : ''}`, vc) + '\n');
  }
}

async function openSource(file: string): Promise<AsyncIterable<Buffer>> {
  if (file === '-') return process.stdin;
  // Open first so a missing or unreadable file is a typed error before any output.
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (e) {
    throw asAgentError(e, 'CLI_FILE', `cannot read ${file}`);
  }
  return handle.createReadStream({ highWaterMark: 1 << 20 });
}

/**
 * Streams the capture (a file, or `-` for stdin, e.g. `tcpdump -w - | cpe-agent decode pcap -`),
 * printing each DHCP message as soon as its record is complete. A damaged or truncated
 * capture stops with its typed PCAP_* error (exit 2) after every packet before the damage.
 */
async function decodePcap(file: string, opts: { json?: boolean }): Promise<void> {
  const source = await openSource(file);
  // Strict: stop at the first damaged record, after printing every packet before it.
  const stream = new CaptureStream({ strict: true });
  let bytesRead = 0;
  const out = new Out();
  const classes = new VendorClassMemory();
  try {
    for await (const chunk of source) {
      bytesRead += chunk.length;
      // each chunk is a fresh Buffer: records may stay views into it
      for (const r of stream.push(chunk)) {
        const p = dhcpFromRecord(r);
        if (!p) continue;
        const vc = p.message ? classes.see(p.message) : undefined;
        out.line(opts.json ? JSON.stringify(packetToJson(p, vc)) : packetToLine(p, vc));
        if (out.pending > 1 << 16) await out.flush();
      }
      await out.flush();
      if (out.closed) return; // the reader went away; leaving the loop closes the source
    }
    if (bytesRead === 0) throw new AgentError('PCAP_TRUNCATED', `${file}: empty input, not a pcap or pcapng capture`, { offset: 0 });
    stream.end();
  } catch (e) {
    throw asAgentError(e, 'CLI_FILE', `cannot read ${file}`);
  } finally {
    await out.flush();
  }
}

function decodeDhcp(hex: string, opts: { json?: boolean }): void {
  const msg = decodeMessage(hexArg(hex, 'DHCP message'));
  const s = summarizeMessage(msg);
  if (opts.json) process.stdout.write(JSON.stringify(s) + '\n');
  else {
    const lines = [`${s.messageType} xid=0x${s.xid.toString(16).padStart(8, '0')} chaddr=${s.chaddr} ciaddr=${s.ciaddr} yiaddr=${s.yiaddr} siaddr=${s.siaddr} giaddr=${s.giaddr}`];
    for (const [code, v] of Object.entries(s.options)) lines.push(`  option ${code.padStart(3)}  ${typeof v === 'string' ? v : JSON.stringify(v)}`);
    process.stdout.write(lines.join('\n') + '\n');
  }
}

export function registerDecode(program: Command): void {
  const decode = program.command('decode').description('decode option 43 bytes, DHCP messages, or the DHCP packets of a capture file');
  decode
    .command('opt43')
    .description('decode option 43 (vendor-specific) bytes with the profile of a vendor class (default CTS)')
    .argument('<hex...>', 'option 43 data as hex (0x prefix, separators : - and spaces allowed; several arguments are joined)')
    .option('--vendor-class <vc>', 'option 60 vendor class selecting the profile (e.g. FS-0900E)')
    .option('--json', 'print one JSON object (Option43Offer)')
    .action((hex: string[], opts: { vendorClass?: string; json?: boolean }) => decodeOpt43(hex.join(' '), opts));
  decode
    .command('pcap')
    .description('print every DHCP message in a pcap or pcapng file (Ethernet, VLAN, Linux cooked v1/v2, raw IP)')
    .argument('<file>', 'capture file, or - for stdin (tcpdump -w - | cpe-agent decode pcap -)')
    .option('--json', 'one JSON object per line per DHCP message')
    .action(async (file: string, opts: { json?: boolean }) => decodePcap(file, opts));
  decode
    .command('dhcp')
    .description('decode one DHCP message given as hex (the UDP payload)')
    .argument('<hex...>', 'DHCP message as hex (several arguments are joined)')
    .option('--json', 'print one JSON object')
    .action((hex: string[], opts: { json?: boolean }) => decodeDhcp(hex.join(' '), opts));
}
