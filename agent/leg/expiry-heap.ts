/**
 * Min-heap of (expiresAt, ip) for auto-logout. Entries are never updated in place: a
 * renewal pushes a new entry and the stale one is skipped when popped (the caller checks it
 * against the mapping). `compact` drops stale entries when renewals pile them up.
 */
export class ExpiryHeap {
  private t: number[] = [];
  private ip: string[] = [];

  get size(): number {
    return this.t.length;
  }

  push(expiresAt: number, ip: string): void {
    let i = this.t.length;
    this.t.push(expiresAt);
    this.ip.push(ip);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((this.t[p] as number) <= expiresAt) break;
      this.swap(i, p);
      i = p;
    }
  }

  peekTime(): number | undefined {
    return this.t[0];
  }

  peekIp(): string | undefined {
    return this.ip[0];
  }

  pop(): { expiresAt: number; ip: string } | undefined {
    const n = this.t.length;
    if (n === 0) return undefined;
    const top = { expiresAt: this.t[0] as number, ip: this.ip[0] as string };
    const lt = this.t.pop() as number;
    const lip = this.ip.pop() as string;
    if (n > 1) {
      this.t[0] = lt;
      this.ip[0] = lip;
      this.down(0);
    }
    return top;
  }

  /** Keeps only entries for which `keep` is true, then re-heapifies. */
  compact(keep: (expiresAt: number, ip: string) => boolean): void {
    const t: number[] = [];
    const ip: string[] = [];
    for (let i = 0; i < this.t.length; i++) {
      if (keep(this.t[i] as number, this.ip[i] as string)) {
        t.push(this.t[i] as number);
        ip.push(this.ip[i] as string);
      }
    }
    this.t = t;
    this.ip = ip;
    for (let i = (t.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private down(i: number): void {
    const n = this.t.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && (this.t[l] as number) < (this.t[m] as number)) m = l;
      if (r < n && (this.t[r] as number) < (this.t[m] as number)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(a: number, b: number): void {
    const t = this.t[a] as number;
    this.t[a] = this.t[b] as number;
    this.t[b] = t;
    const s = this.ip[a] as string;
    this.ip[a] = this.ip[b] as string;
    this.ip[b] = s;
  }
}
