/** Records of firmware images as the agent keeps them (state file, status, decisions). */
import type { SlotName } from '../../platform/types.ts';

export interface ImageRecord {
  slot: SlotName;
  /** 32 lowercase hex */
  md5: string;
  /** 64 lowercase hex when known (computed on the download stream) */
  sha256: string | null;
  size: number;
  /** dotted version ("1.2.0") when known */
  version: string | null;
  /** image file name as offered (or the factory image's name) */
  file: string | null;
  /** where it came from */
  source: 'factory' | 'tftp' | 'ftp' | 'rebuilt';
  /** ms since the epoch */
  installedAt: number;
  /** the offer it came from (softwareOfferKey), to reject it if it never boots healthy */
  offerKey: string | null;
  /**
   * The slot's bytes no longer matched the verified image at a start (md5/sha256/size then
   * describe what the slot holds): its content is not what was verified, so an offer of any
   * image is installed again (never UP_TO_DATE, never SAME_VERSION_REFUSED).
   */
  mismatch?: { expectedMd5: string; expectedSha256: string | null; at: number };
  /** signing time (s) from its verified signature trailer (agent/image); absent: not verified as signed */
  signedAt?: number | null;
}

/** An image written to the inactive slot, boot env switched to it on trial. */
export interface StagedImage extends ImageRecord {
  urgent: boolean;
  /** set when a reboot into it was requested (urgent offer, `reboot`, SNMP) */
  rebootRequestedAt: number | null;
}

/** The configuration file last fetched from the offer. */
export interface ConfigRecord {
  file: string;
  md5: string;
  size: number;
  /** where the agent stored it */
  path: string;
  fetchedAt: number;
}
