/**
 * Helpers on the option 43 offer: the identity of an offer (what makes "the offer
 * changed"), completeness checks, and the masked form that may be logged, persisted and
 * shown in `status`. Pure.
 */
import type { Option43Offer } from '../option43/types.ts';
import { MASK } from '../log.ts';

/** The offer as logged and stored: the password replaced by `***`. */
export type MaskedOffer = Omit<Option43Offer, 'password'> & { password?: typeof MASK };

export function maskOffer(offer: Option43Offer): MaskedOffer {
  const { password, ...rest } = offer;
  return password === undefined ? { ...rest } : { ...rest, password: MASK };
}

/**
 * Identity of the software part of an offer. A change of any of these is a new offer
 * (attempt counters and a failed-verification mark are reset). The password is not part of
 * it on purpose: it is a secret and never persisted.
 */
export function softwareOfferKey(offer: Option43Offer): string | null {
  if (!offer.softwareFile || !offer.softwareMd5) return null;
  return [offer.protocol ?? '', offer.server ?? '', offer.user ?? '', offer.softwareFile, offer.softwareMd5.toLowerCase()].join('|');
}

export function configOfferKey(offer: Option43Offer): string | null {
  if (!offer.configFile || !offer.configMd5) return null;
  return [offer.protocol ?? '', offer.server ?? '', offer.user ?? '', offer.configFile, offer.configMd5.toLowerCase()].join('|');
}

export const MD5_RE = /^[0-9a-f]{32}$/;

/** Why an offer cannot be acted on, or undefined when it can. */
export function offerProblem(offer: Option43Offer, part: 'software' | 'config'): string | undefined {
  const file = part === 'software' ? offer.softwareFile : offer.configFile;
  const md5 = part === 'software' ? offer.softwareMd5 : offer.configMd5;
  if (!file) return `no ${part} file name in the offer`;
  if (!md5 || !MD5_RE.test(md5.toLowerCase())) return `no valid ${part} MD5 in the offer`;
  if (offer.protocol !== 'tftp' && offer.protocol !== 'ftp') return 'no transfer protocol in the offer';
  if (!offer.server) return 'no server address in the offer';
  return undefined;
}
