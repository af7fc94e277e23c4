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

/** C0 controls, DEL and the C1 range: never part of a file name a server can serve. */
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Why `server` cannot be the address of a TFTP/FTP server, or undefined when it can:
 * 0.0.0.0/8 ("this host", the CPE itself), 127/8 loopback, 224/4 multicast, 240/4 class E
 * and the limited broadcast 255.255.255.255 (inside 240/4) are never a unicast peer.
 */
export function serverProblem(server: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(server);
  const b = m ? m.slice(1).map(Number) : [];
  if (b.length !== 4 || b.some((x) => x > 255)) return `server ${JSON.stringify(server)} is not an IPv4 address`;
  const first = b[0] as number;
  const what =
    server === '255.255.255.255' ? 'the broadcast address'
    : first === 0 ? 'a "this network" address (0.0.0.0/8)'
    : first === 127 ? 'a loopback address'
    : first >= 224 && first <= 239 ? 'a multicast address'
    : first >= 240 ? 'a reserved class E address'
    : undefined;
  return what === undefined ? undefined : `server ${server} is ${what}, not a unicast server`;
}

/** Why `name` cannot be a file name to fetch, or undefined when it can. */
export function fileNameProblem(name: string, part: 'software' | 'config'): string | undefined {
  if (name.length === 0) return `empty ${part} file name in the offer`;
  if (CONTROL_RE.test(name)) return `${part} file name ${JSON.stringify(name)} contains NUL or control characters`;
  return undefined;
}

/** Why an offer cannot be acted on, or undefined when it can. */
export function offerProblem(offer: Option43Offer, part: 'software' | 'config'): string | undefined {
  const file = part === 'software' ? offer.softwareFile : offer.configFile;
  const md5 = part === 'software' ? offer.softwareMd5 : offer.configMd5;
  if (file === undefined) return `no ${part} file name in the offer`;
  const bad = fileNameProblem(file, part);
  if (bad) return bad;
  if (!md5 || !MD5_RE.test(md5.toLowerCase())) return `no valid ${part} MD5 in the offer`;
  if (offer.protocol !== 'tftp' && offer.protocol !== 'ftp') return 'no transfer protocol in the offer';
  if (!offer.server) return 'no server address in the offer';
  return serverProblem(offer.server);
}
