/**
 * Offers that cannot be right (issue 8 point 5): a server that is not a unicast host, an
 * empty file name, a file name with NUL or control characters → INVALID_OFFER before any
 * fetch, with a reason that names the fault.
 */
import { describe, expect, it } from 'vitest';
import { decide, type DecideInput } from '../../agent/upgrade/decide.ts';
import { fileNameProblem, offerProblem, serverProblem } from '../../agent/upgrade/offer.ts';
import { emptyAttempts } from '../../agent/upgrade/attempts.ts';
import { DEFAULT_POLICY } from '../../agent/upgrade/policy.ts';
import type { Option43Offer } from '../../agent/option43/types.ts';
import type { ImageRecord } from '../../agent/upgrade/image.ts';

const running: ImageRecord = {
  slot: 'A', md5: 'a'.repeat(32), sha256: null, size: 10, version: '1.2.0', file: 'ESH-3105_FW_1_02_00_20081006', source: 'factory', installedAt: 0, offerKey: null,
};
const offer = (o: Partial<Option43Offer> = {}): Option43Offer => ({
  protocol: 'tftp', server: '198.18.1.1', softwareFile: 'ESH-3105_FW_1_03_00_20261123.bin', softwareMd5: 'b'.repeat(32), configFile: 'esh.cfg', configMd5: 'c'.repeat(32), flags: 0, urgent: false, unknown: [], ...o,
});
const input = (o: Option43Offer): DecideInput => ({ offer: o, running, staged: null, policy: DEFAULT_POLICY, attempts: emptyAttempts(), now: 0 });

describe('serverProblem: only a unicast host can serve an image', () => {
  it.each([
    ['0.0.0.0', 'this network'],
    ['0.1.2.3', 'this network'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['240.0.0.1', 'class E'],
    ['254.1.1.1', 'class E'],
    ['1.2.3', 'not an IPv4 address'],
    ['1.2.3.256', 'not an IPv4 address'],
  ])('%s → %s', (server, why) => {
    expect(serverProblem(server)).toContain(why);
  });
  it.each(['198.18.1.1', '1.0.0.1', '10.0.0.1', '126.255.255.255', '128.0.0.1', '223.255.255.254', '192.0.2.255'])('%s is a unicast server', (server) => {
    expect(serverProblem(server)).toBeUndefined();
  });
});

describe('fileNameProblem', () => {
  it.each([
    ['', 'empty'],
    ['a\u0000b.bin', 'control'],
    ['fw.bin\u0000', 'control'],
    ['fw\n.bin', 'control'],
    ['fw\r.bin', 'control'],
    ['fw\t.bin', 'control'],
    ['fw\u001b[2J.bin', 'control'],
    ['fw\u007f.bin', 'control'],
    ['fw\u0085.bin', 'control'],
  ])('%j → %s', (name, why) => {
    expect(fileNameProblem(name, 'software')).toContain(why);
  });
  it.each(['ESH-3105_FW_1_03_00_20261123.bin', 'dir/sub/fw image (1).bin', 'prošivka.bin'])('%j is a file name', (name) => {
    expect(fileNameProblem(name, 'software')).toBeUndefined();
  });
});

describe('decide: an offer that cannot be right → INVALID_OFFER, nothing fetched', () => {
  it.each([
    [{ server: '0.0.0.0' }, '0.0.0.0'],
    [{ server: '255.255.255.255' }, 'broadcast'],
    [{ server: '224.0.0.251' }, 'multicast'],
    [{ server: '127.0.0.1' }, 'loopback'],
    [{ server: '250.0.0.1' }, 'class E'],
    [{ softwareFile: '' }, 'empty software file name'],
    [{ softwareFile: 'fw\u0000.bin' }, 'control'],
    [{ softwareFile: 'fw\n.bin' }, 'control'],
  ])('%j', (o, why) => {
    const d = decide(input(offer(o)));
    expect(d).toMatchObject({ action: 'nothing', code: 'INVALID_OFFER' });
    expect(d.reason).toContain(why);
  });
  it('the config part of an offer is held to the same rules (never fetched)', () => {
    const up = { softwareMd5: running.md5 };
    expect(decide({ ...input(offer(up)), config: { applied: null, attempts: emptyAttempts() } })).toMatchObject({ action: 'fetch-config' });
    for (const bad of [{ server: '0.0.0.0' }, { configFile: '' }, { configFile: 'a\u0001.cfg' }]) {
      expect(offerProblem(offer({ ...up, ...bad }), 'config')).toBeDefined();
      expect(decide({ ...input(offer({ ...up, ...bad })), config: { applied: null, attempts: emptyAttempts() } })).toMatchObject({ action: 'nothing', code: 'UP_TO_DATE' });
    }
  });
  it('a good offer still fetches', () => {
    expect(decide(input(offer()))).toMatchObject({ action: 'fetch-software' });
  });
});
