/**
 * Signed images against real peers: ISC dhcpd (or the lab's rogue DHCP server), tftpd-hpa,
 * vsftpd, `dist/cpe-agent run --once` on the sim platform with policy.signature=require.
 * DHCP may say where and when; only a trusted key decides what runs.
 *
 * Addresses 198.18.104.0/24, namespaces cps-<tag>-*. Logs: test-results/signed-logs/.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AGENT, describeLab } from '../helpers/prereq.ts';
import { collectOutput, labTag, waitFor } from '../../scripts/lab/netns.ts';
import { md5Hex, pseudoRandomImage, startUpgradeLab, type UpgradeLab } from '../../scripts/lab/upgrade-lab.ts';
import type { Option43Offer } from '../../agent/option43/types.ts';
import { encodeOption43 } from '../../agent/option43/codec.ts';
import { profileForClass } from '../../agent/option43/registry.ts';
import { toHex } from '../../agent/util/bytes.ts';
import { buildTrailer } from '../../agent/image/sign.ts';
import { generateKeyPair, parsePrivateKey, type PrivateKey } from '../../agent/image/keys.ts';

const LOG_DIR = new URL('../../test-results/signed-logs/', import.meta.url).pathname;
const SUBNET = '198.18.104';
const SERVER = `${SUBNET}.1`;
const ROGUE_IP = `${SUBNET}.250`;
const tag = labTag();
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

const vendor = generateKeyPair();
const isp = generateKeyPair();
const vendorKey = parsePrivateKey(vendor.privatePem);
const T0 = 1_796_083_200; // 2026-12-01

const FACTORY = pseudoRandomImage(200, 300_000);
const FACTORY_NAME = 'SGOOD_FW_1_02_00_20250101.bin';
const PAYLOAD = pseudoRandomImage(201, 500_000);
const PAYLOAD2 = pseudoRandomImage(202, 400_000);

function sign(payload: Uint8Array, version: string, models: string[], signedAt = T0, signers: { role: 'manufacturer' | 'co-signer'; key: PrivateKey }[] = [{ role: 'manufacturer', key: vendorKey }]): Uint8Array {
  const { trailer } = buildTrailer({ payloadLength: payload.length, payloadSha256: sha256(payload), version, models, signedAt, signers });
  return Buffer.concat([payload, trailer]);
}

const F = {
  good: 'SGOOD_FW_1_03_00_20261201.bin', // signed 1.3.0 for SGOOD (written by `cpe-agent image sign`)
  stale: 'SGOOD_FW_1_04_00_20261130.bin', // signed 1.4.0 but signed before the running 1.3.0
  rogue: 'SGOOD_FW_1_09_00_rogue.bin', // the payload of `good`, unsigned
  other: 'SMODEL_FW_1_03_00_20261201.bin', // signed for SGOOD only
  old: 'SOLD_FW_1_04_00_20261201.bin', // name says 1.4.0, signed 1.1.0
  nocosig: 'SCOSIG_FW_1_03_00_20261201.bin', // manufacturer signature only
};
const FILES: Record<string, Uint8Array> = {
  [F.stale]: sign(PAYLOAD2, '1.4.0', ['SGOOD'], T0 - 86_400),
  [F.rogue]: PAYLOAD,
  [F.other]: sign(PAYLOAD, '1.3.0', ['SGOOD']),
  [F.old]: sign(PAYLOAD, '1.1.0', ['SOLD']),
  [F.nocosig]: sign(PAYLOAD, '1.3.0', ['SCOSIG']),
};

const offer = (file: string, md5: string, urgent = false): Option43Offer => ({ protocol: 'tftp', server: SERVER, softwareFile: file, softwareMd5: md5, flags: urgent ? 1 : 0, urgent, unknown: [] });

let lab: UpgradeLab;
let work: string;
let goodMd5 = '';
let classes: Record<string, Option43Offer>;
let runs = 0;
const live = new Set<ChildProcess>();

interface AgentRun {
  code: number | null;
  stdout: string;
  events: Array<Record<string, unknown>>;
}
interface Cpe {
  ns: string;
  vc: string;
  dir: string;
  config: string;
}

function runOnce(c: Cpe, name: string): Promise<AgentRun> {
  const args = ['run', '--once', '--iface', 'wan0', '--vendor-class', c.vc, '--platform', 'sim', '--state-dir', join(c.dir, 'state'), '--sim-dir', join(c.dir, 'sim'), '--factory-image', join(c.dir, FACTORY_NAME), '--resolv-conf', join(c.dir, 'resolv.conf'), '--log-format', 'json', '--config', c.config];
  const logFile = join(LOG_DIR, `${tag}-${String(++runs).padStart(2, '0')}-${name}.log`);
  const child = spawn('ip', ['netns', 'exec', c.ns, AGENT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      live.delete(child);
      writeFileSync(logFile, stderr);
      const events = stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ code, stdout, events });
    }),
  );
}

function cpe(i: number, vc: string, coSigner = false): Cpe {
  const dir = join(work, `c${i}-${vc}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, FACTORY_NAME), FACTORY);
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ policy: { signature: 'require', trustedKeys: { manufacturer: [vendor.publicText], coSigner: coSigner ? [isp.publicText] : [] } } }));
  return { ns: lab.clientNs[i] ?? '', vc, dir, config };
}

function status(c: Cpe): { state: string; running: { slot: string; version: string | null; md5: string; signedAt?: string }; staged: unknown; attempts: { verifyFailed: boolean }; lastError: { code: string; message: string } | null } {
  return JSON.parse(execFileSync(AGENT, ['status', '--json', '--state-dir', join(c.dir, 'state')], { encoding: 'utf8' })) as ReturnType<typeof status>;
}

const events = (r: AgentRun, e: string): Array<Record<string, unknown>> => r.events.filter((x) => x.event === e);

/** Refused: exit 3 (verify failed), slot B empty, boot env never switched, reason in status. */
function expectRefused(c: Cpe, r: AgentRun, code: string): void {
  expect(r.code, JSON.stringify(r.events.filter((e) => e.level !== 30).slice(-3))).toBe(3);
  expect(events(r, 'download.rejected')).toMatchObject([{ code }]);
  expect(events(r, 'reboot')).toEqual([]);
  expect(statSync(join(c.dir, 'sim', 'slot-B.img')).size).toBe(0);
  expect(JSON.parse(readFileSync(join(c.dir, 'sim', 'bootenv.json'), 'utf8'))).toMatchObject({ next: 'A', current: 'A', trial: false });
  expect(status(c)).toMatchObject({ state: 'verify-failed', running: { slot: 'A', version: '1.2.0', md5: md5Hex(FACTORY) }, staged: null, attempts: { verifyFailed: true }, lastError: { code } });
}

describeLab('signed images (policy.signature=require; dhcpd / rogue DHCP + tftpd-hpa, dist/cpe-agent on sim)', ['dhcpd', 'in.tftpd', 'vsftpd'], () => {
  beforeAll(async () => {
    mkdirSync(LOG_DIR, { recursive: true });
    work = mkdtempSync(join(tmpdir(), 'cps-signed-'));
    // The good image is signed with the ISP tool, as an operator would.
    writeFileSync(join(work, 'payload.bin'), PAYLOAD);
    writeFileSync(join(work, 'vendor.key'), vendor.privatePem, { mode: 0o600 });
    const s = spawnSync(AGENT, ['image', 'sign', join(work, 'payload.bin'), '--key', join(work, 'vendor.key'), '--fw-version', '1.3.0', '--model', 'SGOOD', '--signed-at', new Date(T0 * 1000).toISOString(), '--out', join(work, F.good), '--json'], { encoding: 'utf8' });
    if (s.status !== 0) throw new Error(`image sign failed: ${s.stderr}`);
    const good = readFileSync(join(work, F.good));
    goodMd5 = (JSON.parse(s.stdout) as { md5: string }).md5;
    expect(goodMd5).toBe(md5Hex(good));
    classes = {
      SGOOD: offer(F.good, goodMd5, true),
      SMODEL: offer(F.other, md5Hex(FILES[F.other] as Uint8Array)),
      SOLD: offer(F.old, md5Hex(FILES[F.old] as Uint8Array)),
      SCOSIG: offer(F.nocosig, md5Hex(FILES[F.nocosig] as Uint8Array)),
    };
    lab = await startUpgradeLab({ prefix: 'cps', subnet: SUBNET, tag, clients: 5, leaseSeconds: 600, classes, files: { ...FILES, [F.good]: good }, ftp: { user: `cps${tag}`, password: `Pw-${tag}-x` } });
  });

  afterAll(async () => {
    for (const c of live) c.kill('SIGKILL');
    await lab?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('a valid signed image upgrades: staged, urgent reboot, next start runs it with the signed version and time; an image signed earlier is then refused', async () => {
    const c = cpe(0, 'SGOOD');
    const r = await runOnce(c, 'good');
    expect(r.code).toBe(0);
    expect(events(r, 'staged')).toMatchObject([{ slot: 'B', version: '1.3.0', signed: true }]);
    expect(r.events.map((e) => e.event).filter((e) => e === 'staged' || e === 'reboot')).toEqual(['staged', 'reboot']);
    const next = await runOnce(c, 'good-boot');
    expect(next.code).toBe(0);
    expect(status(c)).toMatchObject({ state: 'up-to-date', running: { slot: 'B', version: '1.3.0', md5: goodMd5, signedAt: new Date(T0 * 1000).toISOString() } });
    expect(md5Hex(readFileSync(join(c.dir, 'sim', 'slot-B.img')))).toBe(goodMd5); // payload + trailer in the slot

    // A newer version signed before the running image: anti-rollback on the signing time.
    await lab.setOffers({ ...classes, SGOOD: offer(F.stale, md5Hex(FILES[F.stale] as Uint8Array)) });
    const stale = await runOnce(c, 'stale');
    expect(stale.code).toBe(3);
    expect(events(stale, 'download.rejected')).toMatchObject([{ code: 'IMAGE_SIGNING_TIME_ROLLBACK' }]);
    expect(statSync(join(c.dir, 'sim', 'slot-A.img')).size).toBe(0); // the inactive slot (A) was emptied
    expect(JSON.parse(readFileSync(join(c.dir, 'sim', 'bootenv.json'), 'utf8'))).toMatchObject({ next: 'B', current: 'B' });
    await lab.setOffers(classes);
  });

  it('the same payload unsigned, offered with its matching MD5 by the rogue DHCP server → refused, slot never bootable', async () => {
    const c = cpe(1, 'SGOOD');
    const opt43 = encodeOption43(offer(F.rogue, md5Hex(PAYLOAD), true), profileForClass('SGOOD'));
    await lab.dhcpd().stop(); // the rogue is the only DHCP server on the segment
    await lab.netns.exec(lab.serverNs, ['ip', 'route', 'replace', '255.255.255.255/32', 'dev', 'br0']);
    const rogue = lab.netns.spawn(lab.serverNs, [process.execPath, fileURLToPath(new URL('../../scripts/lab/dhcp-rogue.ts', import.meta.url)), '--serve', '--yiaddr', ROGUE_IP, '--server', SERVER, '--opt43', toHex(opt43), '--seconds', '60']);
    live.add(rogue);
    const out = collectOutput(rogue);
    try {
      await waitFor(() => out.text().includes('ready'), 'rogue ready', 15_000);
      const r = await runOnce(c, 'rogue');
      expect(out.text()).toMatch(/ack 198\.18\.104\.250/);
      expect(events(r, 'dhcp.ack')[0]).toMatchObject({ address: ROGUE_IP });
      expect(events(r, 'download.start')).toMatchObject([{ file: F.rogue }]);
      expectRefused(c, r, 'IMAGE_UNSIGNED');
    } finally {
      rogue.kill('SIGTERM');
      live.delete(rogue);
      await lab.setOffers(classes);
    }
  });

  it('an image signed for another vendor class → refused', async () => {
    const c = cpe(2, 'SMODEL');
    expectRefused(c, await runOnce(c, 'model'), 'IMAGE_MODEL_NOT_LISTED');
  });

  it('an older signed image (file name says newer) → refused, and not fetched again until the offer changes', async () => {
    const c = cpe(3, 'SOLD');
    const r = await runOnce(c, 'old');
    expect(events(r, 'decision')[0]).toMatchObject({ code: 'UPGRADE', version: '1.4.0' });
    expectRefused(c, r, 'IMAGE_VERSION_ROLLBACK');
    const again = await runOnce(c, 'old-again');
    expect(again.code).toBe(3);
    expect(events(again, 'decision').map((e) => e.code)).toEqual(['VERIFY_FAILED']);
    expect(events(again, 'download.start')).toEqual([]);
  });

  it('co-signature required and missing → refused', async () => {
    const c = cpe(4, 'SCOSIG', true);
    expectRefused(c, await runOnce(c, 'cosig'), 'IMAGE_COSIGNATURE_MISSING');
  });
});
