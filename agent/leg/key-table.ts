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
 * mappings as history). Canonical keys: values in insertion order, found through an
 * open-addressing index (linear probing, at most 3/4 full) whose slots hold the key and the
 * value's number side by side, so a lookup touches one slot of the index and then the value:
 * DHCP clients renew in about the order they logged on, so consecutive lookups mostly touch
 * neighbouring values. Other text: a Map.
 */
export class KeyTable<V extends object> {
  private readonly keyOf: (s: string) => number;
  /** slot i: [2i] = key (NO_KEY = empty), [2i + 1] = number of its value in `vals` */
  private slots: Float64Array;
  private readonly vals: V[] = [];
  private shift: number;
  private readonly other = new Map<string, V>();

  constructor(keyOf: (s: string) => number, initialBits = 10) {
    this.keyOf = keyOf;
    this.slots = new Float64Array(2 << initialBits).fill(NO_KEY);
    this.shift = 32 - initialBits;
  }

  get size(): number {
    return this.vals.length + this.other.size;
  }

  get(s: string): V | undefined {
    const k = this.keyOf(s);
    if (k === NO_KEY) return this.other.get(s);
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let i = this.slot(k); ; i = (i + 2) & mask) {
      const x = slots[i] as number;
      if (x === k) return this.vals[slots[i + 1] as number];
      if (x === NO_KEY) return undefined;
    }
  }

  set(s: string, v: V): void {
    const k = this.keyOf(s);
    if (k === NO_KEY) {
      this.other.set(s, v);
      return;
    }
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let i = this.slot(k); ; i = (i + 2) & mask) {
      const x = slots[i] as number;
      if (x === k) {
        this.vals[slots[i + 1] as number] = v;
        return;
      }
      if (x === NO_KEY) {
        slots[i] = k;
        slots[i + 1] = this.vals.length;
        this.vals.push(v);
        if (8 * this.vals.length > 3 * slots.length) this.grow();
        return;
      }
    }
  }

  *values(): Generator<V> {
    yield* this.vals;
    yield* this.other.values();
  }

  /** index in `slots` of the first slot to probe for key k */
  private slot(k: number): number {
    const hi = (k / 4294967296) | 0;
    return (Math.imul((k >>> 0) ^ Math.imul(hi, 0x27d4eb2d), 0x9e3779b1) >>> this.shift) << 1;
  }

  private grow(): void {
    const old = this.slots;
    const slots = (this.slots = new Float64Array(old.length * 2).fill(NO_KEY));
    this.shift--;
    const mask = slots.length - 1;
    for (let j = 0; j < old.length; j += 2) {
      const k = old[j] as number;
      if (k === NO_KEY) continue;
      let i = this.slot(k);
      while (slots[i] !== NO_KEY) i = (i + 2) & mask;
      slots[i] = k;
      slots[i + 1] = old[j + 1] as number;
    }
  }
}
