/**
 * Option 43 profiles are data: a profile lists the vendor's sub-options, each with the
 * Option43Offer field it fills and its wire type. The generic codec (codec.ts) and the ISC
 * dhcpd.conf renderer (isc.ts) work off this description only, so a new vendor layout is a
 * new file in profiles/ plus a registry entry, with no new code path.
 */
export type TextField = 'user' | 'password' | 'softwareFile' | 'configFile';
export type Md5Field = 'softwareMd5' | 'configMd5';
export type ProtocolName = 'tftp' | 'ftp';

interface Base {
  /** sub-option code, 1..254 */
  code: number;
  /** name in the ISC option space (`option <space>.<isc> code N = …`) */
  isc: string;
}

/** One byte naming a value; unknown values are rejected (OPT43_BAD_ENUM). */
export interface EnumU8Def extends Base {
  type: 'enum-u8';
  field: 'protocol';
  values: Readonly<Record<number, ProtocolName>>;
}

/** Four bytes, one IPv4 address. */
export interface Ipv4Def extends Base {
  type: 'ipv4';
  field: 'server';
}

/** UTF-8 text; trailing NULs dropped. `secret` marks values never to be logged. */
export interface TextDef extends Base {
  type: 'text';
  field: TextField;
  secret?: boolean;
}

/** An MD5 digest: 16 raw bytes, 32 hex characters, or 47 colon-separated hex (→ 32 lowercase hex). */
export interface Md5Def extends Base {
  type: 'md5';
  field: Md5Field;
}

/** A 16-bit flags word; named bits become booleans, the whole word stays in `flags`. */
export interface FlagsDef extends Base {
  type: 'u16-flags';
  field: 'flags';
  bits: readonly { bit: number; field: 'urgent' }[];
}

export type SubOptionDef = EnumU8Def | Ipv4Def | TextDef | Md5Def | FlagsDef;

export interface Option43Profile {
  /** short id, also the ISC option space name (letters, digits, '-') */
  name: string;
  description: string;
  subOptions: readonly SubOptionDef[];
}
