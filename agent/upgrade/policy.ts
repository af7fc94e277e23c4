/**
 * Upgrade policy: what the agent accepts from the DHCP server's offer. Defaults are the
 * documented production behaviour (docs/config.md).
 */
import { DEFAULT_VERSION_PATTERN } from './version.ts';

export interface UpgradePolicy {
  /** Install an offered image whose version is lower than the running one. */
  allowDowngrade: boolean;
  /**
   * Offered MD5 differs but a version (offered or running) cannot be parsed:
   * `install` trusts the operator's offer (the MD5 is still verified), `refuse` skips it.
   */
  unparseableVersion: 'install' | 'refuse';
  /** Same version as running, different MD5 (a rebuild): install it or not. */
  sameVersion: 'install' | 'refuse';
  /**
   * Ignore every software offer (like DOCSIS docsDevSwAdminStatus =
   * ignoreProvisioningUpgrade): ends upgrade loops caused by a misprovisioned server.
   */
  ignoreProvisioning: boolean;
  /** Regular expression with capture groups for the version components of a file name. */
  versionPattern: string;
}

export const DEFAULT_POLICY: Readonly<UpgradePolicy> = Object.freeze({
  allowDowngrade: false,
  unparseableVersion: 'install',
  sameVersion: 'install',
  ignoreProvisioning: false,
  versionPattern: DEFAULT_VERSION_PATTERN,
});

export interface RetryPolicy {
  /** Failed downloads per round; after that the agent waits for the next DHCP ACK. */
  maxAttempts: number;
  /** Backoff before retry n (n = 1, 2, …) is base * 2^(n-1), jittered, capped at max. */
  baseMs: number;
  maxMs: number;
  /** Fraction of the delay that is random: delay * (1 - jitter + jitter * rand). 0..1 */
  jitter: number;
}

export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 3,
  baseMs: 30_000,
  maxMs: 600_000,
  jitter: 0.5,
});
