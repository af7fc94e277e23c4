/** `cpe-agent leg run --rdr-listen` end to end: RDRs in over TCP, events to a file, SIGTERM stops cleanly. */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectOutput, waitFor } from '../../scripts/lab/netns.ts';
import { encodeRdr } from '../../agent/leg/rdr.ts';
import { dhcpRdrToRecord } from '../../agent/leg/rdr-dhcp.ts';
import { encodeRelayAgent } from '../../agent/dhcp/relay-agent.ts';
import { MessageType } from '../../agent/dhcp/message.ts';
import { parseMac } from '../../agent/util/bytes.ts';
import { lease, MODEM } from './helpers.ts';

const MAIN = new URL('../../agent/main.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'leg-cli-rdr-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('leg run --rdr-listen', { timeout: 60_000 }, () => {
  it('logs on from RDRs, writes events to --events, exits 0 on SIGTERM with the state committed', async () => {
    const events = join(dir, 'events.jsonl');
    const state = join(dir, 'state');
    const child = spawn(process.execPath, [MAIN, 'leg', 'run', '--rdr-listen', '127.0.0.1:0', '--cable', '--state-dir', state, '--events', events, '--log-level', 'info'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = collectOutput(child);
    try {
      await waitFor(() => /RDR listener started.*port=(\d+)/.test(out.text()), 'listener', 30_000);
      const port = Number(/port=(\d+)/.exec(out.text())?.[1]);
      const now = Math.floor(Date.now() / 1000);
      const wire = (n: number, type: number) =>
        encodeRdr(
          dhcpRdrToRecord({
            cpeMac: `aa:bb:cc:00:00:0${n}`,
            cmtsIp: '198.18.80.1',
            assignedIp: type === MessageType.ACK ? `198.18.81.${n}` : '0.0.0.0',
            releasedIp: type === MessageType.RELEASE ? `198.18.81.${n}` : '0.0.0.0',
            transactionId: n * 100 + type,
            messageType: type,
            options: type === MessageType.ACK ? [{ code: 51, data: lease(600) }, { code: 82, data: encodeRelayAgent([{ code: 2, data: parseMac(MODEM) }]) }] : [],
            endTime: now,
          }),
        );
      const sock = connect(port, '127.0.0.1');
      await new Promise<void>((r) => sock.once('connect', () => r()));
      sock.write(new Uint8Array([...wire(1, MessageType.ACK), ...wire(2, MessageType.ACK), ...wire(1, MessageType.RELEASE)]));
      await waitFor(() => existsSync(events) && readFileSync(events, 'utf8').trim().split('\n').length >= 3, 'three events', 30_000);
      sock.end();
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      expect(code).toBe(0);
      const evs = readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; ip: string; subscriber: string });
      expect(evs.map((e) => [e.event, e.subscriber, e.ip])).toEqual([
        ['logon', MODEM, '198.18.81.1'],
        ['logon', MODEM, '198.18.81.2'],
        ['logout', MODEM, '198.18.81.1'],
      ]);
      const list = spawn(process.execPath, [MAIN, 'leg', 'list', '--state-dir', state, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const lo = collectOutput(list);
      await new Promise((r) => list.once('exit', r));
      expect(JSON.parse(lo.text())).toEqual([expect.objectContaining({ subscriber: MODEM, ips: [expect.objectContaining({ ip: '198.18.81.2', active: true })] })]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
