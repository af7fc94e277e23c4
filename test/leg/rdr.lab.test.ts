/**
 * `leg run --rdr-listen` across namespaces (issue 11): two SCEs, one at an address in
 * --rdr-allow and one outside it, each in its own namespace, send DHCP RDRs to the built
 * agent. Only the allowed one's records become events; the refused peer is counted in
 * `leg counters` and named in the log.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { describeLab, AGENT } from '../helpers/prereq.ts';
import { Netns, collectOutput, labTag, waitFor } from '../../scripts/lab/netns.ts';
import { encodeRdr } from '../../agent/leg/rdr.ts';
import { dhcpRdrToRecord } from '../../agent/leg/rdr-dhcp.ts';
import { encodeRelayAgent } from '../../agent/dhcp/relay-agent.ts';
import { MessageType } from '../../agent/dhcp/message.ts';
import { parseMac } from '../../agent/util/bytes.ts';
import type { LegEvent } from '../../agent/leg/events.ts';
import { lease, MODEM } from './helpers.ts';

const LEG = '198.18.88.1';
const ALLOWED = '198.18.88.2';
const REFUSED = '198.18.88.6';
const PORT = 33110;

function records(net: number, n: number): Buffer {
  return Buffer.concat(
    Array.from({ length: n }, (_, i) =>
      encodeRdr(
        dhcpRdrToRecord({
          cpeMac: `aa:bb:cc:00:${net.toString(16).padStart(2, '0')}:${i.toString(16).padStart(2, '0')}`,
          cmtsIp: '198.18.80.1',
          assignedIp: `198.18.${net}.${10 + i}`,
          releasedIp: '0.0.0.0',
          transactionId: 1000 + i,
          messageType: MessageType.ACK,
          options: [
            { code: 51, data: lease(3600) },
            { code: 82, data: encodeRelayAgent([{ code: 2, data: parseMac(MODEM) }]) },
          ],
          endTime: Math.floor(Date.now() / 1000),
        }),
      ),
    ),
  );
}

/** A tiny SCE: connects from inside its namespace and writes a file's bytes, then waits. */
const SENDER = `
const net = require('node:net'); const fs = require('node:fs');
const [host, port, file] = process.argv.slice(2);
const s = net.connect(Number(port), host, () => s.write(fs.readFileSync(file), () => setTimeout(() => s.end(), 500)));
s.on('close', () => process.exit(0)); s.on('error', (e) => { console.log('error ' + e.code); process.exit(0); });
`;

describeLab('leg run --rdr-listen: an allowed and a refused SCE in two namespaces', ['ip'], () => {
  const netns = new Netns();
  const dir = mkdtempSync(join(tmpdir(), 'leg-rdr-lab-'));
  let leg: ChildProcess;
  let legOut: { text: () => string };
  const events = join(dir, 'events.jsonl');
  const state = join(dir, 'state');
  let nsLeg: string;
  let nsA: string;
  let nsB: string;

  beforeAll(async () => {
    const tag = labTag();
    nsLeg = await netns.add(`cpr-${tag}-l`);
    nsA = await netns.add(`cpr-${tag}-a`);
    nsB = await netns.add(`cpr-${tag}-b`);
    await netns.veth(nsLeg, 'la', nsA, 'a0');
    await netns.veth(nsLeg, 'lb', nsB, 'b0');
    await netns.addr(nsLeg, 'la', `${LEG}/30`);
    await netns.addr(nsA, 'a0', `${ALLOWED}/30`);
    await netns.addr(nsLeg, 'lb', '198.18.88.5/30');
    await netns.addr(nsB, 'b0', `${REFUSED}/30`);
    await netns.exec(nsB, ['ip', 'route', 'add', `${LEG}/32`, 'via', '198.18.88.5']);
    leg = netns.spawn(nsLeg, [AGENT, 'leg', 'run', '--rdr-listen', `0.0.0.0:${PORT}`, '--rdr-allow', `${ALLOWED}/32`, '--cable', '--state-dir', state, '--events', events, '--log-level', 'info']);
    legOut = collectOutput(leg);
    await waitFor(() => legOut.text().includes('RDR listener started'), 'RDR listener', 30_000);
  }, 60_000);

  afterAll(async () => {
    await netns.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('only the allowed SCE’s RDRs log on; the refused peer is closed, counted and logged once', async () => {
    writeFileSync(join(dir, 'a.rdr'), records(91, 5));
    writeFileSync(join(dir, 'b.rdr'), records(92, 5));
    writeFileSync(join(dir, 'sender.cjs'), SENDER);
    // the refused SCE tries three times
    for (let i = 0; i < 3; i++) await netns.exec(nsB, [process.execPath, join(dir, 'sender.cjs'), LEG, String(PORT), join(dir, 'b.rdr')]);
    await netns.exec(nsA, [process.execPath, join(dir, 'sender.cjs'), LEG, String(PORT), join(dir, 'b.rdr').replace('b.rdr', 'a.rdr')]);
    const read = () => (existsSync(events) ? readFileSync(events, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as LegEvent) : []);
    await waitFor(() => read().length >= 5, 'five logons from the allowed SCE', 20_000).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${legOut.text()}`);
    });
    leg.kill('SIGTERM');
    expect(await new Promise<number | null>((r) => leg.once('exit', (c) => r(c)))).toBe(0);

    expect(read().map((e) => [e.event, e.ip])).toEqual(Array.from({ length: 5 }, (_, i) => ['logon', `198.18.91.${10 + i}`]));
    const counters = JSON.parse((await netns.exec(nsLeg, [AGENT, 'leg', 'counters', '--state-dir', state, '--json'])).stdout) as Record<string, number>;
    expect(counters[`rdr.refused.peer.${REFUSED}`]).toBe(3);
    expect(counters['rdr.connections']).toBe(1);
    const text = (await netns.exec(nsLeg, [AGENT, 'leg', 'counters', '--state-dir', state])).stdout;
    expect(text).toMatch(new RegExp(`rdr\\.refused\\.peer\\.${REFUSED.replace(/\./g, '\\.')}\\s+3`));
    // one log line for the three refusals (once a minute per peer)
    const lines = legOut.text().split('\n').filter((l) => l.includes('not in rdr.allow'));
    expect(lines.length).toBe(1);
    expect(lines[0]).toContain(REFUSED);
  });
});
