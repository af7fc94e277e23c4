/**
 * Vendor class (option 60, as the agent sends it) → option 43 profile. Adding a vendor is a
 * profile file in profiles/ and one entry here. Matching is case-insensitive: an exact
 * vendor class wins, then the longest registered prefix (e.g. "FS-0900E v2.1"), then the
 * default (CTS).
 */
import type { Option43Profile } from './profile.ts';
import { CTS_PROFILE } from './profiles/cts.ts';

export interface ProfileEntry {
  vendorClass: string;
  /** market segment the vendor class is sold to, for status and docs */
  segment: 'domestic' | 'business';
  profile: Option43Profile;
}

export const DEFAULT_PROFILE: Option43Profile = CTS_PROFILE;

export const PROFILE_REGISTRY: readonly ProfileEntry[] = Object.freeze([
  { vendorClass: 'FS-0900E', segment: 'domestic', profile: CTS_PROFILE },
  { vendorClass: 'ESH-3105', segment: 'business', profile: CTS_PROFILE },
]);

export function profileEntryForClass(vendorClass: string, registry: readonly ProfileEntry[] = PROFILE_REGISTRY): ProfileEntry | undefined {
  const vc = vendorClass.trim().toLowerCase();
  let best: ProfileEntry | undefined;
  for (const e of registry) {
    const k = e.vendorClass.toLowerCase();
    if (k === vc) return e;
    if (vc.startsWith(k) && (!best || k.length > best.vendorClass.length)) best = e;
  }
  return best;
}

export function profileForClass(vendorClass: string, registry: readonly ProfileEntry[] = PROFILE_REGISTRY): Option43Profile {
  return profileEntryForClass(vendorClass, registry)?.profile ?? DEFAULT_PROFILE;
}

/** Every distinct profile (registered and default), e.g. for rendering dhcpd.conf option spaces. */
export function allProfiles(registry: readonly ProfileEntry[] = PROFILE_REGISTRY): Option43Profile[] {
  const out: Option43Profile[] = [DEFAULT_PROFILE];
  for (const e of registry) if (!out.includes(e.profile)) out.push(e.profile);
  return out;
}
