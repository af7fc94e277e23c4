/**
 * Option 43 entry points: the profile is chosen by the option 60 vendor class the agent
 * sent; profiles are data (agent/option43/profiles/*).
 */
import type { Option43Offer } from './types.ts';
import { decodeOption43 } from './codec.ts';
import { profileForClass } from './registry.ts';

export type { Option43Offer, UnknownSubOption } from './types.ts';
export type { Option43Profile, SubOptionDef } from './profile.ts';
export { decodeOption43, encodeOption43, unknownFlagBits, normalizeMd5Bytes, normalizeMd5Text, type EncodeOption43Options, type Md5WireFormat } from './codec.ts';
export { profileForClass, profileEntryForClass, allProfiles, PROFILE_REGISTRY, DEFAULT_PROFILE, type ProfileEntry } from './registry.ts';
export { renderIscOptionSpace, renderIscVendorOptions, renderIscClass } from './isc.ts';
export { CTS_PROFILE } from './profiles/cts.ts';

/** Decodes option 43 bytes with the profile registered for `vendorClass` (CTS by default). */
export function decodeOption43ForClass(vendorClass: string, data: Uint8Array): Option43Offer {
  return decodeOption43(profileForClass(vendorClass), data);
}
