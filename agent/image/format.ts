/**
 * The signed image format: one file = payload ‖ trailer. Pure codec, no I/O.
 *
 *   file    = payload ‖ metadata ‖ signature × N ‖ footer
 *   footer  = trailerLength u32 BE ‖ metadataLength u32 BE ‖ magic "CPEFWSIG" (16 bytes, at the
 *             very end of the file, like OpenWrt's fwtool trailer)
 *   trailer = metadata ‖ signatures ‖ footer; trailerLength counts all of it
 *   signature = role u8 (1 manufacturer, 2 co-signer) ‖ keyId 8 bytes ‖ Ed25519 signature 64 bytes
 *   metadata  = canonical JSON, UTF-8: keys sorted, no whitespace, integers only (no floats),
 *               exactly what `canonicalJson()` prints; anything else is refused.
 *
 * Each signature signs `"cpe-agent image v1\0" ‖ role ‖ metadata` (signingMessage): the metadata
 * carries the payload's length and SHA-256, so the signature covers the payload too.
 */

export const MAGIC = new TextEncoder().encode('CPEFWSIG');
export const FOOTER_LENGTH = 16;
export const SIGNATURE_RECORD_LENGTH = 1 + 8 + 64;
/** Trailers larger than this are refused; also the tail a verifier keeps of a stream. */
export const MAX_TRAILER = 8 * 1024;
export const MAX_METADATA = 4 * 1024;
export const MAX_SIGNATURES = 4;
export const FORMAT_VERSION = 1;

export type SignerRole = 'manufacturer' | 'co-signer';
export const ROLE_BYTE: Readonly<Record<SignerRole, number>> = { manufacturer: 1, 'co-signer': 2 };

export interface ImageMetadata {
  /** trailer format version (1) */
  format: number;
  payloadLength: number;
  /** lowercase hex */
  payloadSha256: string;
  /** firmware version, dotted ("1.3.0") */
  version: string;
  /** option 60 vendor classes / board names this image is built for */
  models: string[];
  /** signing time, seconds since the epoch (UTC) */
  signedAt: number;
  /** the running version must be at least this to install the image */
  minVersion?: string;
}

export interface SignatureRecord {
  role: SignerRole;
  /** 16 lowercase hex: first 8 bytes of SHA-256 of the raw 32-byte public key */
  keyId: string;
  signature: Uint8Array;
}

export interface Trailer {
  metadata: ImageMetadata;
  /** the exact metadata bytes the signatures cover */
  metadataBytes: Uint8Array;
  signatures: SignatureRecord[];
  trailerLength: number;
  payloadLength: number;
}

/** Why a trailer cannot be read (decode) — reason codes shared with verify.ts. */
export type DecodeReason = 'UNSIGNED' | 'TRAILER_MALFORMED' | 'TRAILER_TRUNCATED' | 'METADATA_INVALID' | 'FORMAT_UNSUPPORTED';

export type DecodeResult = { ok: true; trailer: Trailer } | { ok: false; reason: DecodeReason; message: string };

const DOMAIN = new TextEncoder().encode('cpe-agent image v1\0');

/** What each signature signs. */
export function signingMessage(role: SignerRole, metadataBytes: Uint8Array): Uint8Array {
  const m = new Uint8Array(DOMAIN.length + 1 + metadataBytes.length);
  m.set(DOMAIN, 0);
  m[DOMAIN.length] = ROLE_BYTE[role];
  m.set(metadataBytes, DOMAIN.length + 1);
  return m;
}

type Canon = null | boolean | number | string | Canon[] | { [k: string]: Canon | undefined };

/** Canonical JSON: keys sorted (UTF-16 order), no whitespace, undefined members left out. */
export function canonicalJson(v: Canon): string {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new RangeError(`canonical JSON allows safe integers only, got ${v}`);
    return String(v);
  }
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(v)
    .filter((k) => v[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k] as Canon)}`).join(',')}}`;
}

export function encodeMetadata(m: ImageMetadata): Uint8Array {
  const o: Canon = {
    format: m.format,
    payloadLength: m.payloadLength,
    payloadSha256: m.payloadSha256,
    version: m.version,
    models: m.models,
    signedAt: m.signedAt,
    minVersion: m.minVersion,
  };
  return new TextEncoder().encode(canonicalJson(o));
}

const VERSION_RE = /^\d{1,9}(\.\d{1,9}){0,7}$/;
const KEYS = new Set(['format', 'payloadLength', 'payloadSha256', 'version', 'models', 'signedAt', 'minVersion']);

/** Checks metadata fields; returns a problem text or undefined. */
export function metadataProblem(m: ImageMetadata): string | undefined {
  if (!Number.isSafeInteger(m.payloadLength) || m.payloadLength < 0) return 'payloadLength is not a non-negative integer';
  if (!/^[0-9a-f]{64}$/.test(m.payloadSha256)) return 'payloadSha256 is not 64 lowercase hex digits';
  if (!VERSION_RE.test(m.version)) return `version ${JSON.stringify(m.version)} is not dotted numbers`;
  if (m.minVersion !== undefined && !VERSION_RE.test(m.minVersion)) return `minVersion ${JSON.stringify(m.minVersion)} is not dotted numbers`;
  if (m.models.length === 0 || m.models.some((x) => x.length === 0 || x.length > 255)) return 'models must list 1.. non-empty names (≤ 255 characters)';
  if (!Number.isSafeInteger(m.signedAt) || m.signedAt < 0) return 'signedAt is not a non-negative integer (seconds)';
  return undefined;
}

/** Parses and checks canonical metadata bytes. */
export function decodeMetadata(bytes: Uint8Array): { ok: true; metadata: ImageMetadata } | { ok: false; reason: DecodeReason; message: string } {
  let text: string;
  let raw: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: 'METADATA_INVALID', message: `metadata is not UTF-8 JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, reason: 'METADATA_INVALID', message: 'metadata is not a JSON object' };
  const r = raw as Record<string, unknown>;
  const unknown = Object.keys(r).filter((k) => !KEYS.has(k));
  if (unknown.length) return { ok: false, reason: 'METADATA_INVALID', message: `metadata has unknown keys: ${unknown.join(', ')}` };
  if (r.format !== FORMAT_VERSION) return { ok: false, reason: 'FORMAT_UNSUPPORTED', message: `metadata format ${JSON.stringify(r.format)}; this agent reads format ${FORMAT_VERSION}` };
  const models = r.models;
  if (
    typeof r.payloadLength !== 'number' ||
    typeof r.payloadSha256 !== 'string' ||
    typeof r.version !== 'string' ||
    typeof r.signedAt !== 'number' ||
    !Array.isArray(models) ||
    !models.every((x): x is string => typeof x === 'string') ||
    (r.minVersion !== undefined && typeof r.minVersion !== 'string')
  ) {
    return { ok: false, reason: 'METADATA_INVALID', message: 'metadata fields have the wrong types' };
  }
  const m: ImageMetadata = {
    format: FORMAT_VERSION,
    payloadLength: r.payloadLength,
    payloadSha256: r.payloadSha256,
    version: r.version,
    models,
    signedAt: r.signedAt,
    ...(typeof r.minVersion === 'string' ? { minVersion: r.minVersion } : {}),
  };
  const p = metadataProblem(m);
  if (p) return { ok: false, reason: 'METADATA_INVALID', message: `metadata: ${p}` };
  const canon = encodeMetadata(m);
  if (canon.length !== bytes.length || !canon.every((b, i) => b === bytes[i])) {
    return { ok: false, reason: 'METADATA_INVALID', message: 'metadata is not canonical JSON (sorted keys, no whitespace)' };
  }
  return { ok: true, metadata: m };
}

function u32(b: Uint8Array, off: number): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(off, false);
}

/** True when `tail` ends with the magic. */
export function hasMagic(tail: Uint8Array): boolean {
  if (tail.length < MAGIC.length) return false;
  const off = tail.length - MAGIC.length;
  return MAGIC.every((b, i) => tail[off + i] === b);
}

/**
 * Reads the trailer from the last bytes of a file. `tail` is the end of the file (at least the
 * whole trailer, or the whole file when shorter; up to MAX_TRAILER bytes suffice);
 * `fileLength` the length of the whole file.
 */
export function decodeTrailer(tail: Uint8Array, fileLength: number): DecodeResult {
  if (fileLength < FOOTER_LENGTH || tail.length < FOOTER_LENGTH || !hasMagic(tail)) {
    return { ok: false, reason: 'UNSIGNED', message: 'no signature trailer (magic CPEFWSIG missing at the end of the file)' };
  }
  const f = tail.length - FOOTER_LENGTH;
  const trailerLength = u32(tail, f);
  const metadataLength = u32(tail, f + 4);
  if (trailerLength > fileLength) {
    return { ok: false, reason: 'TRAILER_TRUNCATED', message: `trailer claims ${trailerLength} bytes, the file has ${fileLength}` };
  }
  if (trailerLength > MAX_TRAILER) return { ok: false, reason: 'TRAILER_MALFORMED', message: `trailer claims ${trailerLength} bytes, at most ${MAX_TRAILER} are allowed` };
  if (trailerLength > tail.length) {
    return { ok: false, reason: 'TRAILER_TRUNCATED', message: `trailer claims ${trailerLength} bytes, only ${tail.length} are available` };
  }
  const sigBytes = trailerLength - FOOTER_LENGTH - metadataLength;
  if (metadataLength === 0 || metadataLength > MAX_METADATA || sigBytes < 0 || sigBytes % SIGNATURE_RECORD_LENGTH !== 0) {
    return { ok: false, reason: 'TRAILER_MALFORMED', message: `trailer length ${trailerLength} and metadata length ${metadataLength} do not leave whole signature records` };
  }
  const count = sigBytes / SIGNATURE_RECORD_LENGTH;
  if (count > MAX_SIGNATURES) return { ok: false, reason: 'TRAILER_MALFORMED', message: `${count} signatures, at most ${MAX_SIGNATURES} are allowed` };
  const start = tail.length - trailerLength;
  const metadataBytes = tail.slice(start, start + metadataLength);
  const md = decodeMetadata(metadataBytes);
  if (!md.ok) return md;
  const signatures: SignatureRecord[] = [];
  for (let i = 0; i < count; i++) {
    const o = start + metadataLength + i * SIGNATURE_RECORD_LENGTH;
    const roleByte = tail[o];
    const role: SignerRole | undefined = roleByte === 1 ? 'manufacturer' : roleByte === 2 ? 'co-signer' : undefined;
    if (!role) return { ok: false, reason: 'TRAILER_MALFORMED', message: `signature ${i + 1} has unknown role ${roleByte}` };
    signatures.push({ role, keyId: Buffer.from(tail.subarray(o + 1, o + 9)).toString('hex'), signature: tail.slice(o + 9, o + SIGNATURE_RECORD_LENGTH) });
  }
  const payloadLength = fileLength - trailerLength;
  if (md.metadata.payloadLength !== payloadLength) {
    return { ok: false, reason: 'TRAILER_MALFORMED', message: `metadata says the payload is ${md.metadata.payloadLength} bytes, the file holds ${payloadLength} before the trailer` };
  }
  return { ok: true, trailer: { metadata: md.metadata, metadataBytes, signatures, trailerLength, payloadLength } };
}

/** Builds the trailer bytes for already-encoded metadata and its signatures. */
export function encodeTrailer(metadataBytes: Uint8Array, signatures: SignatureRecord[]): Uint8Array {
  if (metadataBytes.length === 0 || metadataBytes.length > MAX_METADATA) throw new RangeError(`metadata must be 1..${MAX_METADATA} bytes`);
  if (signatures.length > MAX_SIGNATURES) throw new RangeError(`at most ${MAX_SIGNATURES} signatures`);
  const total = metadataBytes.length + signatures.length * SIGNATURE_RECORD_LENGTH + FOOTER_LENGTH;
  const out = new Uint8Array(total);
  out.set(metadataBytes, 0);
  let o = metadataBytes.length;
  for (const s of signatures) {
    if (!/^[0-9a-f]{16}$/.test(s.keyId) || s.signature.length !== 64) throw new RangeError('signature record needs a 16-hex key id and 64 signature bytes');
    out[o] = ROLE_BYTE[s.role];
    out.set(Buffer.from(s.keyId, 'hex'), o + 1);
    out.set(s.signature, o + 9);
    o += SIGNATURE_RECORD_LENGTH;
  }
  const dv = new DataView(out.buffer);
  dv.setUint32(o, total, false);
  dv.setUint32(o + 4, metadataBytes.length, false);
  out.set(MAGIC, o + 8);
  return out;
}

/**
 * Version and signing time from an image's trailer, signatures NOT checked: for the image a
 * slot already holds (staged after verification, or flashed at the factory), so that a state
 * rebuilt from the slots keeps the anti-rollback inputs. Null when there is no readable trailer.
 */
export function trailerInfo(tail: Uint8Array, fileLength: number): { version: string; signedAt: number } | null {
  const d = decodeTrailer(tail, fileLength);
  return d.ok ? { version: d.trailer.metadata.version, signedAt: d.trailer.metadata.signedAt } : null;
}
