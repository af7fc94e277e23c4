/**
 * The store's hot tables (10^5 and more entries: IP → mapping, subscriber → record, client →
 * its last ACK's mapping), keyed by numbers instead of strings where the text has a canonical
 * numeric form: a dotted-quad IPv4 address is its uint32, a MAC "aa:bb:cc:dd:ee:ff" its 48-bit
 * value. Looking up a freshly built string in a Map hashes it and compares it with the stored
 * key (a cache miss); the replay profile showed those lookups as the largest cost per ACK.
 * Text without the canonical form (an IPv4 with leading zeros, an uppercase MAC, an option
 * text subscriber ID …) goes to a plain Map, so every distinct string stays a distinct key.
 */

/** the key of text without a canonical numeric form */
export const NO_KEY = -1;

/** "a.b.c.d" (decimal 0–255, no leading zeros) → its uint32; else NO_KEY. */
export function ipKey(s: string): number {
  const n = s.length;
  if (n < 7 || n > 15) return NO_KEY;
  let v = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || ++dots > 3) return NO_KEY;
      v = v * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && octet === 0) return NO_KEY; // leading zero
      octet = octet * 10 + (c - 0x30);
      if (++digits > 3 || octet > 255) return NO_KEY;
    } else return NO_KEY;
  }
  if (dots !== 3 || digits === 0) return NO_KEY;
  return v * 256 + octet;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** "aa:bb:cc:dd:ee:ff" (lowercase hex, as macText writes it) → its 48-bit value; else NO_KEY. */
export function macKey(s: string): number {
  if (s.length !== 17) return NO_KEY;
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 17; i += 3) {
    const a = hexDigit(s.charCodeAt(i));
    const b = hexDigit(s.charCodeAt(i + 1));
    if (a < 0 || b < 0 || (i < 15 && s.charCodeAt(i + 2) !== 0x3a)) return NO_KEY;
    if (i < 6) hi = (hi << 8) | (a << 4) | b;
    else lo = ((lo << 8) | (a << 4) | b) >>> 0;
  }
  return hi * 4294967296 + lo;
}

/**
 * An insert-only table from text to V (entries are never removed: the store keeps ended
 * mappings as history). Canonical keys live in an open-addressing table (linear probing,
 * keys in a Float64Array, at most half full); other text in a Map.
 */
export class KeyTable<V extends object> {
  private readonly keyOf: (s: string) => number;
  private keys: Float64Array;
  private vals: (V | undefined)[];
  private shift: number;
  private used = 0;
  private readonly other = new Map<string, V>();

  constructor(keyOf: (s: string) => number, initialBits = 10) {
    this.keyOf = keyOf;
    this.keys = new Float64Array(1 << initialBits).fill(NO_KEY);
    this.vals = new Array<V | undefined>(1 << initialBits).fill(undefined);
    this.shift = 32 - initialBits;
  }

  get size(): number {
    return this.used + this.other.size;
  }

  get(s: string): V | undefined {
    const k = this.keyOf(s);
    if (k === NO_KEY) return this.other.get(s);
    const keys = this.keys;
    const mask = keys.length - 1;
    for (let i = this.slot(k); ; i = (i + 1) & mask) {
      const x = keys[i] as number;
      if (x === k) return this.vals[i];
      if (x === NO_KEY) return undefined;
    }
  }

  set(s: string, v: V): void {
    const k = this.keyOf(s);
    if (k === NO_KEY) {
      this.other.set(s, v);
      return;
    }
    if (this.put(k, v)) return;
    if (++this.used * 2 > this.keys.length) this.grow();
  }

  *values(): Generator<V> {
    for (const v of this.vals) if (v !== undefined) yield v;
    yield* this.other.values();
  }

  /** Sets key k; returns true when it was already there. */
  private put(k: number, v: V): boolean {
    const keys = this.keys;
    const mask = keys.length - 1;
    for (let i = this.slot(k); ; i = (i + 1) & mask) {
      const x = keys[i] as number;
      if (x === k || x === NO_KEY) {
        this.vals[i] = v;
        if (x === k) return true;
        keys[i] = k;
        return false;
      }
    }
  }

  private slot(k: number): number {
    const hi = (k / 4294967296) | 0;
    return Math.imul((k >>> 0) ^ Math.imul(hi, 0x27d4eb2d), 0x9e3779b1) >>> this.shift;
  }

  private grow(): void {
    const keys = this.keys;
    const vals = this.vals;
    this.keys = new Float64Array(keys.length * 2).fill(NO_KEY);
    this.vals = new Array<V | undefined>(keys.length * 2).fill(undefined);
    this.shift--;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== NO_KEY) this.put(keys[i] as number, vals[i] as V);
  }
}
