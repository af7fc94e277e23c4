import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { versionFromFileName, compareVersions, parseVersion } from '../../agent/upgrade/version.ts';
import { decide, type DecideInput } from '../../agent/upgrade/decide.ts';
import { emptyAttempts, onAck, recordFailure, recordVerifyFailure } from '../../agent/upgrade/attempts.ts';
import { DEFAULT_POLICY, type RetryPolicy } from '../../agent/upgrade/policy.ts';
import { softwareOfferKey } from '../../agent/upgrade/offer.ts';
import type { Option43Offer } from '../../agent/option43/types.ts';
import type { ImageRecord, StagedImage } from '../../agent/upgrade/image.ts';

const RUNNING_MD5 = 'a'.repeat(32);
const NEW_MD5 = 'b'.repeat(32);
const running: ImageRecord = {
  slot: 'A', md5: RUNNING_MD5, sha256: null, size: 10, version: '1.2.0', file: 'ESH-3105_FW_1_02_00_20081006', source: 'factory', installedAt: 0, offerKey: null,
};
const offer = (o: Partial<Option43Offer> = {}): Option43Offer => ({
  protocol: 'ftp', server: '198.18.1.1', user: 'fw', password: 'secret', softwareFile: 'ESH-3105_FW_1_03_00_20261123.bin', softwareMd5: NEW_MD5, flags: 0, urgent: false, unknown: [], ...o,
});
const base = (o: Partial<DecideInput> = {}): DecideInput => ({
  offer: offer(), running, staged: null, policy: DEFAULT_POLICY, attempts: emptyAttempts(), now: 1_000_000, ...o,
});
const retry: RetryPolicy = { maxAttempts: 3, baseMs: 1000, maxMs: 10_000, jitter: 0 };

describe('decide: the seed decision table', () => {
  it('same MD5 as the running image → nothing', () => {
    expect(decide(base({ offer: offer({ softwareMd5: RUNNING_MD5 }) }))).toMatchObject({ action: 'nothing', code: 'UP_TO_DATE' });
  });
  it('MD5 compare ignores case', () => {
    expect(decide(base({ offer: offer({ softwareMd5: RUNNING_MD5.toUpperCase() }) }))).toMatchObject({ action: 'nothing', code: 'UP_TO_DATE' });
  });
  it('different MD5, newer version → fetch software', () => {
    const d = decide(base());
    expect(d).toMatchObject({ action: 'fetch-software', code: 'UPGRADE', md5: NEW_MD5, version: '1.3.0', urgent: false, file: 'ESH-3105_FW_1_03_00_20261123.bin' });
  });
  it('urgency flows into the fetch decision', () => {
    expect(decide(base({ offer: offer({ urgent: true, flags: 1 }) }))).toMatchObject({ action: 'fetch-software', urgent: true });
  });
  it('no offer / no software → nothing', () => {
    expect(decide(base({ offer: undefined }))).toMatchObject({ action: 'nothing', code: 'NO_OFFER' });
    expect(decide(base({ offer: { unknown: [] } }))).toMatchObject({ action: 'nothing', code: 'NO_OFFER' });
  });
  it.each([
    [{ softwareMd5: 'xyz' }],
    [{ protocol: undefined }],
    [{ server: undefined }],
    [{ softwareFile: undefined }],
  ])('incomplete offer %j → INVALID_OFFER', (o) => {
    expect(decide(base({ offer: offer(o) }))).toMatchObject({ action: 'nothing', code: 'INVALID_OFFER' });
  });
});

describe('decide: staged image', () => {
  const staged: StagedImage = { ...running, slot: 'B', md5: NEW_MD5, version: '1.3.0', source: 'ftp', urgent: false, rebootRequestedAt: null, offerKey: null };
  it('offer equals the staged image → nothing, awaiting reboot', () => {
    expect(decide(base({ staged }))).toMatchObject({ action: 'nothing', code: 'ALREADY_STAGED' });
  });
  it('offer equals the staged image and is now urgent → activate', () => {
    expect(decide(base({ staged, offer: offer({ urgent: true }) }))).toMatchObject({ action: 'activate', code: 'URGENT_STAGED' });
  });
  it('urgent but reboot already requested → nothing', () => {
    expect(decide(base({ staged: { ...staged, rebootRequestedAt: 5 }, offer: offer({ urgent: true }) }))).toMatchObject({ code: 'ALREADY_STAGED' });
  });
  it('a different offer replaces the staged image', () => {
    const d = decide(base({ staged, offer: offer({ softwareMd5: 'c'.repeat(32), softwareFile: 'ESH-3105_FW_1_04_00_x.bin' }) }));
    expect(d).toMatchObject({ action: 'fetch-software', version: '1.4.0' });
  });
});

describe('decide: versions and policy', () => {
  const older = offer({ softwareFile: 'ESH-3105_FW_1_01_00_20070101.bin' });
  it('downgrade refused by default', () => {
    expect(decide(base({ offer: older }))).toMatchObject({ action: 'nothing', code: 'DOWNGRADE_REFUSED' });
  });
  it('downgrade allowed by policy', () => {
    expect(decide(base({ offer: older, policy: { ...DEFAULT_POLICY, allowDowngrade: true } }))).toMatchObject({ action: 'fetch-software', code: 'DOWNGRADE', version: '1.1.0' });
  });
  it('same version, different MD5: install by default, refuse by policy', () => {
    const same = offer({ softwareFile: 'ESH-3105_FW_1_02_00_20261123.bin' });
    expect(decide(base({ offer: same }))).toMatchObject({ action: 'fetch-software', code: 'REINSTALL' });
    expect(decide(base({ offer: same, policy: { ...DEFAULT_POLICY, sameVersion: 'refuse' } }))).toMatchObject({ action: 'nothing', code: 'SAME_VERSION_REFUSED' });
  });
  it('unparseable version: install by default, refuse by policy', () => {
    const odd = offer({ softwareFile: 'firmware.bin' });
    expect(decide(base({ offer: odd }))).toMatchObject({ action: 'fetch-software', code: 'UNVERSIONED', version: null });
    expect(decide(base({ offer: odd, policy: { ...DEFAULT_POLICY, unparseableVersion: 'refuse' } }))).toMatchObject({ action: 'nothing', code: 'UNPARSEABLE_REFUSED' });
    expect(decide(base({ running: { ...running, version: null } }))).toMatchObject({ action: 'fetch-software', code: 'UNVERSIONED' });
  });
  it('ignoreProvisioning ends upgrade loops', () => {
    expect(decide(base({ policy: { ...DEFAULT_POLICY, ignoreProvisioning: true } }))).toMatchObject({ action: 'nothing', code: 'IGNORE_PROVISIONING' });
  });
  it('a configured version pattern is used', () => {
    const d = decide(base({ offer: offer({ softwareFile: 'fw-v9.0.0.img' }), policy: { ...DEFAULT_POLICY, versionPattern: 'v(\\d+)\\.(\\d+)\\.(\\d+)' } }));
    expect(d).toMatchObject({ action: 'fetch-software', version: '9.0.0' });
  });
});

describe('decide: attempts on a fake clock', () => {
  const o = offer();
  const key = softwareOfferKey(o) ?? '';
  it('backoff → wait until, then fetch again; 3 failures → wait for the next ACK', () => {
    let a = recordFailure(emptyAttempts(), key, 'TFTP_NOT_FOUND', 0, retry, 0);
    expect(decide(base({ attempts: a, now: 500 }))).toMatchObject({ action: 'wait', code: 'BACKOFF', until: 1000 });
    expect(decide(base({ attempts: a, now: 1000 }))).toMatchObject({ action: 'fetch-software' });
    a = recordFailure(a, key, 'TFTP_NOT_FOUND', 1000, retry, 0);
    expect(decide(base({ attempts: a, now: 2999 }))).toMatchObject({ action: 'wait', code: 'BACKOFF', until: 3000 });
    a = recordFailure(a, key, 'TFTP_NOT_FOUND', 3000, retry, 0);
    const gaveUp = decide(base({ attempts: a, now: 1e12 }));
    expect(gaveUp).toMatchObject({ action: 'wait', code: 'GAVE_UP', until: null });
    expect(decide(base({ attempts: onAck(a), now: 1e12 }))).toMatchObject({ action: 'fetch-software' });
  });
  it('attempts of another offer do not block a new one', () => {
    let a = emptyAttempts();
    for (let i = 0; i < 3; i++) a = recordFailure(a, 'other', 'X', 0, retry, 0);
    expect(decide(base({ attempts: a }))).toMatchObject({ action: 'fetch-software' });
  });
  it('MD5 mismatch → not refetched (even after an ACK) until the offer changes', () => {
    const a = onAck(recordVerifyFailure(emptyAttempts(), key, 'UPGRADE_MD5_MISMATCH', 0));
    expect(decide(base({ attempts: a, now: 1e12 }))).toMatchObject({ action: 'wait', code: 'VERIFY_FAILED', until: null });
    expect(decide(base({ attempts: a, offer: offer({ softwareMd5: 'd'.repeat(32) }) }))).toMatchObject({ action: 'fetch-software' });
  });
});

describe('decide: configuration file', () => {
  const withCfg = offer({ softwareMd5: RUNNING_MD5, configFile: 'cpe.cfg', configMd5: 'e'.repeat(32) });
  it('software up to date, config changed → fetch config', () => {
    const d = decide(base({ offer: withCfg, config: { applied: null, attempts: emptyAttempts() } }));
    expect(d).toMatchObject({ action: 'fetch-config', file: 'cpe.cfg', md5: 'e'.repeat(32) });
  });
  it('config already applied → nothing', () => {
    const applied = { file: 'cpe.cfg', md5: 'e'.repeat(32), size: 1, path: '/x', fetchedAt: 0 };
    expect(decide(base({ offer: withCfg, config: { applied, attempts: emptyAttempts() } }))).toMatchObject({ action: 'nothing', code: 'UP_TO_DATE' });
  });
  it('software first: a pending software upgrade wins over the config', () => {
    const o = { ...withCfg, softwareMd5: NEW_MD5 };
    expect(decide(base({ offer: o, config: { applied: null, attempts: emptyAttempts() } }))).toMatchObject({ action: 'fetch-software' });
  });
});


describe('decide: properties', () => {
  const md5Arb = fc.constantFrom('a'.repeat(32), 'b'.repeat(32), 'c'.repeat(32));
  const fileArb = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 12 }), fc.boolean()).map(([a, b, c, ok]) =>
    ok ? `X_FW_${a}_${String(b).padStart(2, '0')}_${String(c).padStart(2, '0')}_2026.bin` : 'firmware.bin',
  );
  const offerArb = fc.record({ softwareMd5: md5Arb, softwareFile: fileArb, urgent: fc.boolean(), protocol: fc.constantFrom('tftp' as const, 'ftp' as const) });
  const policyArb = fc.record({ allowDowngrade: fc.boolean(), ignoreProvisioning: fc.boolean(), unparseableVersion: fc.constantFrom('install' as const, 'refuse' as const), sameVersion: fc.constantFrom('install' as const, 'refuse' as const) });

  it('never fetches the running image, never downgrades against policy, always gives a reason', () => {
    fc.assert(
      fc.property(offerArb, policyArb, md5Arb, fc.option(fc.constantFrom('1.2.0', '0.9.9', '3.0.0'), { nil: null }), (o, p, runMd5, runVer) => {
        const d = decide(base({ offer: offer(o), policy: { ...DEFAULT_POLICY, ...p }, running: { ...running, md5: runMd5, version: runVer } }));
        expect(d.reason.length).toBeGreaterThan(0);
        if (d.action !== 'fetch-software') return;
        expect(d.md5).not.toBe(runMd5);
        expect(p.ignoreProvisioning).toBe(false);
        const ov = versionFromFileName(o.softwareFile);
        const rv = parseVersion(runVer);
        if (ov && rv && compareVersions(ov, rv) < 0) expect(p.allowDowngrade).toBe(true);
        if (!ov || !rv) expect(p.unparseableVersion).toBe('install');
      }),
      { numRuns: 500 },
    );
  });
});
