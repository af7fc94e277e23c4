/**
 * Renders ISC dhcpd.conf text for an option 43 profile: the `option space` declarations
 * and the statements that make dhcpd send an offer as option 43 (`vendor-option-space`).
 * Used by the lab to generate dhcpd.conf; checked with `dhcpd -t` in tests.
 */
import type { Option43Offer } from './types.ts';
import type { Option43Profile, SubOptionDef } from './profile.ts';
import { encodeOption43, type Md5WireFormat } from './codec.ts';
import { AgentError } from '../errors.ts';
import { toHex } from '../util/bytes.ts';

function iscType(def: SubOptionDef): string {
  switch (def.type) {
    case 'enum-u8':
      return 'unsigned integer 8';
    case 'ipv4':
      return 'ip-address';
    case 'text':
      return 'text';
    case 'md5':
      return 'string';
    case 'u16-flags':
      return 'unsigned integer 16';
  }
}

function checkName(s: string, what: string): string {
  if (!/^[a-z][a-z0-9-]*$/.test(s)) throw new AgentError('OPT43_PROFILE_INVALID', `${what} ${JSON.stringify(s)} is not a valid ISC option name`);
  return s;
}

/** `option space cts; option cts.protocol code 1 = unsigned integer 8; …` one statement per line. */
export function renderIscOptionSpace(profile: Option43Profile): string {
  const space = checkName(profile.name, 'profile name');
  const lines = [`option space ${space};`];
  for (const def of profile.subOptions) lines.push(`option ${space}.${checkName(def.isc, 'sub-option name')} code ${def.code} = ${iscType(def)};`);
  return lines.join('\n') + '\n';
}

/** A dhcpd.conf quoted string with `"` and `\` escaped and non-printables as octal escapes. */
export function iscQuote(s: string): string {
  let out = '"';
  for (const byte of new TextEncoder().encode(s)) {
    if (byte === 0x22 || byte === 0x5c) out += '\\' + String.fromCharCode(byte);
    else if (byte < 0x20 || byte > 0x7e) out += '\\' + byte.toString(8).padStart(3, '0');
    else out += String.fromCharCode(byte);
  }
  return out + '"';
}

function colonHex(b: Uint8Array): string {
  return (toHex(b).match(/../g) ?? []).join(':');
}

/**
 * `vendor-option-space cts; option cts.protocol 0; …` for `offer`. Values are validated by
 * encoding the offer first, so a bad offer throws the same OPT43_* error as the encoder.
 * md5Format: 'raw' sends 16 bytes (colon-hex in the config), 'hex' 32 hex characters,
 * 'colon' the 47-character colon form as text. Unknown sub-options cannot be expressed
 * without declaring them and are rejected.
 */
export function renderIscVendorOptions(offer: Option43Offer, profile: Option43Profile, md5Format: Md5WireFormat = 'raw'): string {
  if (offer.unknown.length > 0) {
    throw new AgentError('OPT43_ENCODE_INVALID', 'unknown sub-options cannot be rendered into dhcpd.conf', { count: offer.unknown.length });
  }
  const wire = encodeOption43(offer, profile, { md5Format });
  const space = checkName(profile.name, 'profile name');
  const lines = [`vendor-option-space ${space};`];
  let i = 0;
  while (i < wire.length) {
    const code = wire[i] as number;
    const len = wire[i + 1] as number;
    const d = wire.subarray(i + 2, i + 2 + len);
    i += 2 + len;
    const def = profile.subOptions.find((s) => s.code === code) as SubOptionDef;
    let value: string;
    switch (def.type) {
      case 'enum-u8':
        value = String(d[0]);
        break;
      case 'ipv4':
        value = `${d[0]}.${d[1]}.${d[2]}.${d[3]}`;
        break;
      case 'u16-flags':
        value = String(((d[0] as number) << 8) | (d[1] as number));
        break;
      case 'text':
        value = iscQuote(new TextDecoder().decode(d));
        break;
      case 'md5':
        value = md5Format === 'raw' ? colonHex(d) : iscQuote(new TextDecoder().decode(d));
        break;
    }
    lines.push(`option ${space}.${def.isc} ${value};`);
  }
  return lines.join('\n') + '\n';
}

/** A `class` block matching option 60 exactly and sending `offer` as option 43. */
export function renderIscClass(vendorClass: string, offer: Option43Offer, profile: Option43Profile, md5Format: Md5WireFormat = 'raw'): string {
  const body = renderIscVendorOptions(offer, profile, md5Format)
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
  return `class ${iscQuote(`vc-${vendorClass}`)} {\n  match if option vendor-class-identifier = ${iscQuote(vendorClass)};\n${body}\n}\n`;
}
