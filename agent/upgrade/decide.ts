/**
 * The upgrade decision (seed 000's table), pure: offer × running image × staged image ×
 * policy × attempt history × now → one Decision with a machine code and a human reason.
 *
 *   same MD5 as running          → nothing (UP_TO_DATE)
 *   same MD5 as already staged   → nothing (ALREADY_STAGED; awaiting reboot), or
 *                                  activate when the offer is now urgent
 *   otherwise compare versions   → fetch, or nothing (downgrade / policy refused)
 *   failed downloads             → wait (backoff) … after maxAttempts wait for the next ACK
 *   image failed verification    → wait until the offer changes
 */
import type { Option43Offer } from '../option43/types.ts';
import type { AttemptState } from './attempts.ts';
import type { ConfigRecord, ImageRecord, StagedImage } from './image.ts';
import type { UpgradePolicy } from './policy.ts';
import { configOfferKey, offerProblem, softwareOfferKey } from './offer.ts';
import { compareVersions, parseVersion, versionFromFileName } from './version.ts';

export type NothingCode =
  | 'NO_OFFER'
  | 'INVALID_OFFER'
  | 'IGNORE_PROVISIONING'
  | 'UP_TO_DATE'
  | 'ALREADY_STAGED'
  | 'DOWNGRADE_REFUSED'
  | 'SAME_VERSION_REFUSED'
  | 'UNPARSEABLE_REFUSED';

export type Decision =
  | { action: 'nothing'; code: NothingCode; reason: string }
  | {
      action: 'fetch-software';
      code: 'UPGRADE' | 'DOWNGRADE' | 'REINSTALL' | 'UNVERSIONED';
      reason: string;
      offerKey: string;
      file: string;
      md5: string;
      /** version parsed from the file name, when it parses */
      version: string | null;
      urgent: boolean;
    }
  | { action: 'fetch-config'; code: 'CONFIG_CHANGED'; reason: string; offerKey: string; file: string; md5: string }
  | { action: 'activate'; code: 'URGENT_STAGED'; reason: string }
  | { action: 'wait'; code: 'BACKOFF' | 'GAVE_UP' | 'VERIFY_FAILED'; reason: string; part: 'software' | 'config'; until: number | null };

export interface DecideInput {
  offer: Option43Offer | undefined;
  running: ImageRecord;
  staged: StagedImage | null;
  policy: UpgradePolicy;
  attempts: AttemptState;
  /** config file part; omitted: configuration files are not handled */
  config?: { applied: ConfigRecord | null; attempts: AttemptState };
  now: number;
}

export function decide(input: DecideInput): Decision {
  const sw = decideSoftware(input);
  if (sw.action !== 'nothing' || !input.config || !input.offer) return sw;
  const cfg = decideConfig(input.offer, input.config.applied, input.config.attempts, input.now);
  return cfg ?? sw;
}

function decideSoftware(input: DecideInput): Decision {
  const { offer, running, staged, policy, attempts, now } = input;
  if (!offer || (offer.softwareFile === undefined && !offer.softwareMd5)) {
    return { action: 'nothing', code: 'NO_OFFER', reason: 'the DHCP server offered no software image' };
  }
  const md5 = (offer.softwareMd5 ?? '').toLowerCase();
  if (md5 && md5 === running.md5) {
    return { action: 'nothing', code: 'UP_TO_DATE', reason: `offered MD5 ${md5} is the running image (slot ${running.slot})` };
  }
  if (md5 && staged && md5 === staged.md5) {
    if (offer.urgent && staged.rebootRequestedAt === null) {
      return { action: 'activate', code: 'URGENT_STAGED', reason: `offered image is already staged in slot ${staged.slot} and the offer is now urgent` };
    }
    return { action: 'nothing', code: 'ALREADY_STAGED', reason: `offered MD5 ${md5} is already staged in slot ${staged.slot}, awaiting reboot` };
  }
  const problem = offerProblem(offer, 'software');
  const key = softwareOfferKey(offer);
  if (problem || !key || offer.softwareFile === undefined) {
    return { action: 'nothing', code: 'INVALID_OFFER', reason: problem ?? 'incomplete software offer' };
  }
  if (policy.ignoreProvisioning) {
    return { action: 'nothing', code: 'IGNORE_PROVISIONING', reason: 'policy ignoreProvisioning is set: software offers are ignored' };
  }

  const offered = versionFromFileName(offer.softwareFile, policy.versionPattern);
  const current = parseVersion(running.version);
  let code: 'UPGRADE' | 'DOWNGRADE' | 'REINSTALL' | 'UNVERSIONED';
  let why: string;
  if (!current && running.source === 'rebuilt' && !policy.allowDowngrade) {
    // The state was rebuilt and the running version could not be recovered: any offer may
    // be a downgrade, so the guard stays on whatever unparseableVersion says.
    return { action: 'nothing', code: 'DOWNGRADE_REFUSED', reason: `running version unknown (state rebuilt from slot ${running.slot}): the offer may be a downgrade; policy allowDowngrade=false` };
  }
  if (!offered || !current) {
    const which = !offered ? `offered file ${offer.softwareFile}` : `running image (slot ${running.slot})`;
    if (policy.unparseableVersion === 'refuse') {
      return { action: 'nothing', code: 'UNPARSEABLE_REFUSED', reason: `no version in ${which}; policy unparseableVersion=refuse` };
    }
    code = 'UNVERSIONED';
    why = `no version in ${which}; MD5 differs, policy unparseableVersion=install`;
  } else {
    const c = compareVersions(offered, current);
    if (c < 0) {
      if (!policy.allowDowngrade) {
        return { action: 'nothing', code: 'DOWNGRADE_REFUSED', reason: `offered ${offered.text} is older than running ${current.text}; policy allowDowngrade=false` };
      }
      code = 'DOWNGRADE';
      why = `downgrade ${current.text} → ${offered.text} allowed by policy`;
    } else if (c === 0) {
      if (policy.sameVersion === 'refuse' && !running.mismatch) {
        return { action: 'nothing', code: 'SAME_VERSION_REFUSED', reason: `offered ${offered.text} equals running version with a different MD5; policy sameVersion=refuse` };
      }
      code = 'REINSTALL';
      why = `same version ${offered.text} with a different MD5; policy sameVersion=install`;
    } else {
      code = 'UPGRADE';
      why = `upgrade ${current.text} → ${offered.text}`;
    }
  }

  const wait = waitFor(attempts, key, 'software', now);
  if (wait) return wait;
  return {
    action: 'fetch-software',
    code,
    reason: why,
    offerKey: key,
    file: offer.softwareFile,
    md5,
    version: offered?.text ?? null,
    urgent: offer.urgent === true,
  };
}

function waitFor(attempts: AttemptState, key: string, part: 'software' | 'config', now: number): Decision | undefined {
  if (attempts.offerKey !== key) return undefined;
  if (attempts.verifyFailed) {
    return { action: 'wait', code: 'VERIFY_FAILED', part, until: null, reason: `the offered ${part} file failed verification (${attempts.lastFailureCode ?? 'MD5 mismatch'}); not fetched again until the offer changes` };
  }
  if (attempts.gaveUp) {
    return { action: 'wait', code: 'GAVE_UP', part, until: null, reason: `${attempts.failures} failed ${part} downloads (last: ${attempts.lastFailureCode ?? 'unknown'}); waiting for the next DHCP ACK` };
  }
  if (attempts.nextAttemptAt !== null && attempts.nextAttemptAt > now) {
    return { action: 'wait', code: 'BACKOFF', part, until: attempts.nextAttemptAt, reason: `${part} download failed ${attempts.failures}×; retry in ${Math.ceil((attempts.nextAttemptAt - now) / 1000)} s` };
  }
  return undefined;
}

function decideConfig(offer: Option43Offer, applied: ConfigRecord | null, attempts: AttemptState, now: number): Decision | undefined {
  const key = configOfferKey(offer);
  if (!key || !offer.configFile || !offer.configMd5 || offerProblem(offer, 'config')) return undefined;
  const md5 = offer.configMd5.toLowerCase();
  if (applied && applied.md5 === md5) return undefined;
  const wait = waitFor(attempts, key, 'config', now);
  if (wait) return wait;
  return { action: 'fetch-config', code: 'CONFIG_CHANGED', reason: `configuration ${offer.configFile} (MD5 ${md5}) differs from the applied one`, offerKey: key, file: offer.configFile, md5 };
}
