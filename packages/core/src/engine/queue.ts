/**
 * A flat, typed-array 4-ary min-heap of events ordered by (time, priority, sequence).
 * No object is allocated per event: each slot is a row across parallel typed arrays.
 */

/** Ordering key of an event beyond its time: lower priority first, then insertion order. */
const SEQ_BITS = 2 ** 32;

/** A priority queue of simulation events keyed by (time, priority, sequence). */
export class EventQueue {
  private time: Float64Array;
  private key: Float64Array;
  private seq: Float64Array;
  private kind: Int32Array;
  private cpu: Int32Array;
  private arg: Float64Array;
  private n = 0;

  constructor(capacity = 1024) {
    this.time = new Float64Array(capacity);
    this.key = new Float64Array(capacity);
    this.seq = new Float64Array(capacity);
    this.kind = new Int32Array(capacity);
    this.cpu = new Int32Array(capacity);
    this.arg = new Float64Array(capacity);
  }

  /** Number of pending events. */
  get size(): number {
    return this.n;
  }

  /** Time of the earliest event (Infinity when empty). */
  peekTime(): number {
    return this.n > 0 ? this.time[0]! : Infinity;
  }

  /** Inserts an event; `seq` must be unique and increasing, `priority` in 0..1023. */
  push(time: number, priority: number, seq: number, kind: number, cpu: number, arg: number): void {
    if (this.n === this.time.length) this.grow();
    const key = priority * SEQ_BITS + seq;
    let i = this.n++;
    const t = this.time, k = this.key;
    while (i > 0) {
      const p = (i - 1) >> 2;
      const pt = t[p]!;
      if (pt < time || (pt === time && k[p]! < key)) break;
      this.move(p, i);
      i = p;
    }
    t[i] = time;
    k[i] = key;
    this.seq[i] = seq;
    this.kind[i] = kind;
    this.cpu[i] = cpu;
    this.arg[i] = arg;
  }

  /** Removes the earliest event into `out` ([time, seq, kind, cpu, arg]); false when empty. */
  pop(out: Float64Array): boolean {
    if (this.n === 0) return false;
    out[0] = this.time[0]!;
    out[1] = this.seq[0]!;
    out[2] = this.kind[0]!;
    out[3] = this.cpu[0]!;
    out[4] = this.arg[0]!;
    const last = --this.n;
    if (last > 0) this.siftDownFrom(last);
    return true;
  }

  private siftDownFrom(last: number): void {
    const t = this.time, k = this.key;
    const time = t[last]!, key = k[last]!, seq = this.seq[last]!;
    const kind = this.kind[last]!, cpu = this.cpu[last]!, arg = this.arg[last]!;
    const n = this.n;
    let i = 0;
    for (;;) {
      const c0 = (i << 2) + 1;
      if (c0 >= n) break;
      let best = c0;
      let bt = t[c0]!, bk = k[c0]!;
      const end = c0 + 4 < n ? c0 + 4 : n;
      for (let c = c0 + 1; c < end; c++) {
        const ct = t[c]!;
        if (ct < bt || (ct === bt && k[c]! < bk)) {
          best = c;
          bt = ct;
          bk = k[c]!;
        }
      }
      if (bt > time || (bt === time && bk > key)) break;
      this.move(best, i);
      i = best;
    }
    t[i] = time;
    k[i] = key;
    this.seq[i] = seq;
    this.kind[i] = kind;
    this.cpu[i] = cpu;
    this.arg[i] = arg;
  }

  private move(from: number, to: number): void {
    this.time[to] = this.time[from]!;
    this.key[to] = this.key[from]!;
    this.seq[to] = this.seq[from]!;
    this.kind[to] = this.kind[from]!;
    this.cpu[to] = this.cpu[from]!;
    this.arg[to] = this.arg[from]!;
  }

  private grow(): void {
    const cap = this.time.length * 2;
    const g = <T extends Float64Array | Int32Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.time = g(this.time, (c) => new Float64Array(c));
    this.key = g(this.key, (c) => new Float64Array(c));
    this.seq = g(this.seq, (c) => new Float64Array(c));
    this.kind = g(this.kind, (c) => new Int32Array(c));
    this.cpu = g(this.cpu, (c) => new Int32Array(c));
    this.arg = g(this.arg, (c) => new Float64Array(c));
  }
}
