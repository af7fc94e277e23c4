/**
 * A batch of events as JSON lines, written straight into bytes: exactly
 * `JSON.stringify(toEvent(op)) + '\n'` per event (property-tested), without the event
 * object, the generic serialiser or a string per event. Building each line from string
 * pieces made V8 rope strings that the batch join had to flatten again; the replay profile
 * showed serialisation as the largest cost per event. `take()` returns the batch as one
 * string for the EventSink.
 */
import type { EventOp } from './events.ts';
import { DAY, MAX_FAST_MS, dayPrefix, isoTime } from './events.ts';

const HEX = '0123456789abcdef';
const Q = 0x22;
const COLON = 0x3a;

/** the constant parts, as byte arrays */
const keys = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const K_EVENT = keys('{"event":');
const K_TIME = keys(',"time":"');
const K_SUB = keys('","subscriber":');
const K_IP = keys(',"ip":');
const K_MODEM_T = keys(',"modem":true,"leaseSeconds":');
const K_MODEM_F = keys(',"modem":false,"leaseSeconds":');
const K_PKG = keys(',"package":');
const K_REASON = keys(',"reason":');
const K_TX = keys(',"transaction":');
const K_CHADDR = keys(',"chaddr":');
const K_XID = keys(',"xid":');
const K_END = keys('}\n');
const NULL = keys('null');
/** well below Node's threshold for external strings (0xFBEE9 bytes) */
const PART_BYTES = 256 * 1024;

export class EventBuffer {
  private buf: Buffer = Buffer.allocUnsafe(1 << 16);
  private len = 0;
  /** no byte above 0x7f since the last take(): the batch decodes as latin1 (a plain copy) */
  private ascii = true;
  /** events in the buffer */
  count = 0;

  /** Appends one event line. */
  add(op: EventOp): void {
    const isLogon = op.kind === 'logon' || op.kind === 'extend';
    this.bytes(K_EVENT);
    this.str(op.kind);
    this.bytes(K_TIME);
    this.time(op.time);
    this.bytes(K_SUB);
    this.optStr(op.subscriber);
    this.bytes(K_IP);
    this.optStr(op.ip);
    this.bytes(op.modem ? K_MODEM_T : K_MODEM_F);
    this.num(isLogon ? op.leaseSeconds : op.kind === 'rejected' ? op.leaseSeconds : null);
    this.bytes(K_PKG);
    this.optStr(isLogon ? op.package : null);
    this.bytes(K_REASON);
    this.optStr('reason' in op ? op.reason : null);
    this.bytes(K_TX);
    this.str(op.transaction);
    this.bytes(K_CHADDR);
    this.optStr(op.chaddr);
    this.bytes(K_XID);
    this.reserve(16);
    if (op.xid === null) this.bytes(NULL);
    else {
      const b = this.buf;
      let o = this.len;
      const x = op.xid >>> 0;
      b[o++] = Q;
      b[o++] = 0x30;
      b[o++] = 0x78;
      for (let sh = 28; sh >= 0; sh -= 4) b[o++] = HEX.charCodeAt((x >>> sh) & 15);
      b[o++] = Q;
      this.len = o;
    }
    this.bytes(K_END);
    this.count++;
  }

  get size(): number {
    return this.len;
  }

  /** The buffered lines as one string; empties the buffer. */
  take(): string {
    const s = this.buf.toString(this.ascii ? 'latin1' : 'utf8', 0, this.len);
    this.clear();
    return s;
  }

  /**
   * The buffered lines as strings of whole lines, each at most `maxBytes` long (a longer
   * line is a part of its own); empties the buffer. The engine hands a batch to the sink in
   * such parts: Node makes a string of a megabyte or more an external string, and a
   * replay's batches of those (~1 MB per 5000 events) drove the old-generation collector.
   */
  takeParts(maxBytes = PART_BYTES): string[] {
    const enc = this.ascii ? 'latin1' : 'utf8';
    const b = this.buf;
    const parts: string[] = [];
    let start = 0;
    while (this.len - start > maxBytes) {
      // the last line end within the limit (a newline byte never occurs inside a UTF-8 sequence)
      let end = b.lastIndexOf(0x0a, start + maxBytes - 1);
      if (end < start) end = b.indexOf(0x0a, start);
      parts.push(b.toString(enc, start, end + 1));
      start = end + 1;
    }
    if (start < this.len) parts.push(b.toString(enc, start, this.len));
    this.clear();
    return parts;
  }

  private clear(): void {
    this.len = 0;
    this.ascii = true;
    this.count = 0;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  private bytes(k: Uint8Array): void {
    const n = k.length;
    this.reserve(n);
    // a loop: TypedArray#set costs more than it copies for these few bytes
    const b = this.buf;
    let o = this.len;
    for (let i = 0; i < n; i++) b[o++] = k[i] as number;
    this.len = o;
  }

  private optStr(s: string | null): void {
    if (s === null) this.bytes(NULL);
    else this.str(s);
  }

  /** A JSON string literal; plain ASCII is copied byte by byte, anything else via JSON.stringify. */
  private str(s: string): void {
    const n = s.length;
    this.reserve(n + 2);
    const b = this.buf;
    let o = this.len;
    b[o++] = Q;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      // control characters, '"', '\' and everything beyond ASCII take the slow path
      if (c < 0x20 || c === Q || c === 0x5c || c > 0x7e) {
        this.slowStr(s);
        return;
      }
      b[o++] = c;
    }
    b[o++] = Q;
    this.len = o;
  }

  private slowStr(s: string): void {
    const j = JSON.stringify(s);
    this.reserve(3 * j.length);
    const n = this.buf.write(j, this.len, 'utf8');
    if (n !== j.length) this.ascii = false; // more bytes than UTF-16 units: something beyond ASCII
    this.len += n;
  }

  private num(n: number | null): void {
    this.reserve(32);
    if (n === null || !Number.isFinite(n)) {
      this.bytes(NULL);
      return;
    }
    if (Number.isInteger(n) && n >= 0 && n <= 0xffffffff) {
      this.uint(n);
      return;
    }
    const t = String(n);
    this.reserve(t.length);
    this.len += this.buf.write(t, this.len, 'latin1');
  }

  private uint(n: number): void {
    const b = this.buf;
    if (n < 10) {
      b[this.len++] = 0x30 + n;
      return;
    }
    let digits = 1;
    for (let v = n; v >= 10; v = Math.floor(v / 10)) digits++;
    const end = this.len + digits;
    let o = end;
    let v = n;
    do {
      b[--o] = 0x30 + (v % 10);
      v = Math.floor(v / 10);
    } while (v > 0);
    this.len = end;
  }

  private two(n: number): void {
    const b = this.buf;
    b[this.len++] = 0x30 + Math.floor(n / 10);
    b[this.len++] = 0x30 + (n % 10);
  }

  /** isoTime(ms), written in place (the date part cached per day). */
  private time(ms: number): void {
    this.reserve(40);
    const t = Math.floor(ms);
    if (!Number.isFinite(t) || t < 0 || t >= MAX_FAST_MS) {
      const s = isoTime(ms);
      this.len += this.buf.write(s, this.len, 'latin1');
      return;
    }
    const day = Math.floor(t / DAY);
    const prefix = dayPrefix(day);
    const b = this.buf;
    for (let i = 0; i < prefix.length; i++) b[this.len++] = prefix.charCodeAt(i);
    let r = t - day * DAY;
    const h = Math.floor(r / 3_600_000);
    r -= h * 3_600_000;
    const m = Math.floor(r / 60_000);
    r -= m * 60_000;
    const s = Math.floor(r / 1000);
    const msPart = r - s * 1000;
    this.two(h);
    b[this.len++] = COLON;
    this.two(m);
    b[this.len++] = COLON;
    this.two(s);
    b[this.len++] = 0x2e;
    b[this.len++] = 0x30 + Math.floor(msPart / 100);
    this.two(msPart % 100);
    b[this.len++] = 0x5a;
  }
}
