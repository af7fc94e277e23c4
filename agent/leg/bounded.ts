/**
 * Bounds for what hostile input could grow without end: counter names built from an address
 * (at most `max` distinct per prefix, then `<prefix>.other`) and log lines (at most one per
 * key per interval, on the caller's clock). Pure: the clock is passed in.
 */

/** Counter names `<prefix>.<name>`, at most `max` distinct names per prefix, then `<prefix>.other`. */
export class BoundedNames {
  private readonly seen = new Map<string, Set<string>>();
  private readonly max: number;
  private readonly existing: string[];

  /** `existing`: counter names already in use (from the store), so the bound holds across restarts */
  constructor(max = 64, existing: Iterable<string> = []) {
    this.max = max;
    this.existing = [...existing];
  }

  key(prefix: string, name: string): string {
    let s = this.seen.get(prefix);
    if (!s) {
      s = new Set();
      const p = prefix + '.';
      for (const e of this.existing) if (e.startsWith(p) && e !== p + 'other') s.add(e.slice(p.length));
      this.seen.set(prefix, s);
    }
    if (s.has(name)) return `${prefix}.${name}`;
    if (s.size >= this.max) return `${prefix}.other`;
    s.add(name);
    return `${prefix}.${name}`;
  }
}

/**
 * At most one line per key per `intervalMs`. `allow` answers undefined when the line is to be
 * suppressed, else how many were suppressed since the last line for that key. At most
 * `maxKeys` keys are remembered (the oldest are forgotten first: a flood of new keys can make
 * a forgotten key log again, never grow memory).
 */
export class LogThrottle {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  private readonly intervalMs: number;
  private readonly maxKeys: number;

  constructor(intervalMs = 60_000, maxKeys = 1024) {
    this.intervalMs = intervalMs;
    this.maxKeys = maxKeys;
  }

  allow(key: string, now: number): number | undefined {
    const e = this.last.get(key);
    if (e && now - e.at < this.intervalMs && now >= e.at) {
      e.suppressed++;
      return undefined;
    }
    const suppressed = e ? e.suppressed : 0;
    if (e) this.last.delete(key);
    else if (this.last.size >= this.maxKeys) {
      const oldest = this.last.keys().next();
      if (!oldest.done) this.last.delete(oldest.value);
    }
    this.last.set(key, { at: now, suppressed: 0 });
    return suppressed;
  }

  get size(): number {
    return this.last.size;
  }
}
