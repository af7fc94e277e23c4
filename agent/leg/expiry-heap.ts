/**
 * Min-heap of (expiresAt, item) for auto-logout. Entries are never updated in place: a
 * renewal pushes a new entry and the stale one is skipped when popped (the caller checks it
 * against the item). `compact` drops stale entries when renewals pile them up. The store
 * keeps the mapping objects themselves here (they live as long as the store), so checking
 * the top costs no lookup.
 */
export class ExpiryHeap<T> {
  private t: number[] = [];
  private item: T[] = [];

  get size(): number {
    return this.t.length;
  }

  push(expiresAt: number, item: T): void {
    let i = this.t.length;
    this.t.push(expiresAt);
    this.item.push(item);
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

  peekItem(): T | undefined {
    return this.item[0];
  }

  /** Removes the earliest entry; returns its item. */
  pop(): T | undefined {
    const n = this.t.length;
    if (n === 0) return undefined;
    const top = this.item[0] as T;
    const lt = this.t.pop() as number;
    const li = this.item.pop() as T;
    if (n > 1) {
      this.t[0] = lt;
      this.item[0] = li;
      this.down(0);
    }
    return top;
  }

  /** Keeps only entries for which `keep` is true, then re-heapifies. */
  compact(keep: (expiresAt: number, item: T) => boolean): void {
    const t: number[] = [];
    const item: T[] = [];
    for (let i = 0; i < this.t.length; i++) {
      if (keep(this.t[i] as number, this.item[i] as T)) {
        t.push(this.t[i] as number);
        item.push(this.item[i] as T);
      }
    }
    this.t = t;
    this.item = item;
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
    const s = this.item[a] as T;
    this.item[a] = this.item[b] as T;
    this.item[b] = s;
  }
}
