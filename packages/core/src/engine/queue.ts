/**
 * A monotone priority queue of simulation events ordered exactly by (time, priority, sequence):
 * a radix heap over integer nanoseconds whose lowest bucket is a flat 4-ary heap.
 *
 * Simulated time never goes back, so every new event is at or after `last`, the time most
 * recently taken from the queue. An event whose time differs from `last` first in bit b sits in
 * bucket b + 1, an unordered singly linked list; an event at `last`'s nanosecond sits in bucket
 * 0, a typed-array 4-ary heap on (time, priority * 2^40 + sequence). When bucket 0 runs dry, the
 * lowest non-empty bucket is scanned for its minimum, which becomes `last`, and its events move to
 * lower buckets. An event moves at most 53 times and usually a few, with predictable branches;
 * a heap pays about log4(n) unpredictable comparisons per event.
 *
 * Events live in slots (time, key, kind, cpu, arg, link) recycled through a free list; no object is
 * allocated per event. A handle names a slot and its generation, so cancelling is O(1): the slot
 * is marked dead and dropped when it is next moved, reaches the head, or when dead events
 * outnumber live ones. The event being handled lends its slot to the first event its handler
 * schedules (replace-top).
 */

/** Bits of a handle that name a slot: at most 2^22 (4,194,304) pending events. */
const SLOT_BITS = 22;
const SLOT_LIMIT = 2 ** SLOT_BITS;
/** Generations wrap after 2^30 reuses of one slot, keeping every handle below 2^53. */
const GEN_MASK = 2 ** 30 - 1;
/** Packed key = priority * 2^40 + sequence: 2^40 schedules per run, priorities 0..1023. */
const SEQ_SPAN = 2 ** 40;
/** Exclusive upper bound of an event priority. */
export const PRIORITY_LIMIT = 1024;
/** Latest finite event time: times are integer nanoseconds below 2^53. */
export const MAX_TIME = Number.MAX_SAFE_INTEGER;
/** Bucket of events at Infinity: they never become due. */
const NEVER = 54;
/** Marks a cancelled slot's kind. */
const DEAD = -1;
/** No slot. */
const NONE = -1;
/** Dead events tolerated before a compaction is considered. */
const COMPACT_MIN = 64;
const TWO_32 = 4294967296;

/** A priority queue of simulation events keyed by (time, priority, sequence). */
export class EventQueue {
  private time: Float64Array;
  private key: Float64Array;
  private kind: Int32Array;
  private cpu: Int32Array;
  private arg: Float64Array;
  private gen: Int32Array;
  /** Next slot in the same bucket list. */
  private link: Int32Array;
  /** Stack of free slots; `free[0..nFree)` are available. */
  private free: Int32Array;
  private nFree: number;
  /** Bucket 0: [time, key] pairs of heap position i at 2i and 2i + 1, and the slot at i. */
  private tk0: Float64Array;
  private hs0: Int32Array;
  private n0 = 0;
  /** First slot of buckets 1..NEVER, NONE when empty; bit b of maskLo/maskHi set when b (or b + 32) is non-empty. */
  private readonly heads = new Int32Array(NEVER + 1).fill(NONE);
  private maskLo = 0;
  private maskHi = 0;
  /** Time most recently taken (split in 32-bit halves of its integer part). */
  private lastHi = 0;
  private lastLo = 0;
  private last = 0;
  /** Events in the queue, dead ones included, the held one excluded. */
  private n = 0;
  private dead = 0;
  private seq = 0;
  /** Slot of the event being handled, until a push reuses it or it is released. */
  private held = NONE;

  constructor(capacity = 1024) {
    const cap = Math.max(4, Math.min(SLOT_LIMIT, capacity | 0));
    this.time = new Float64Array(cap);
    this.key = new Float64Array(cap);
    this.kind = new Int32Array(cap);
    this.cpu = new Int32Array(cap);
    this.arg = new Float64Array(cap);
    this.gen = new Int32Array(cap);
    this.link = new Int32Array(cap);
    this.tk0 = new Float64Array(2 * cap);
    this.hs0 = new Int32Array(cap);
    this.free = new Int32Array(cap);
    for (let i = 0; i < cap; i++) this.free[i] = cap - 1 - i;
    this.nFree = cap;
  }

  /** Number of pending events (cancelled ones and a held one excluded). */
  get size(): number {
    return this.n - this.dead;
  }

  /**
   * Time of the earliest pending event if it is at most `limit`, else some time later than
   * `limit` (Infinity when nothing will ever be due). Drops dead events met on the way.
   */
  peekTime(limit: number = MAX_TIME): number {
    const kind = this.kind;
    for (;;) {
      if (this.n0 > 0) {
        const slot = this.hs0[0]!;
        if (kind[slot] !== DEAD) return this.tk0[0]!;
        this.popHeap0();
        this.dropDead(slot);
        continue;
      }
      const next = this.refill(limit);
      if (next !== 0) return next;
    }
  }

  /**
   * Takes the head event (after {@link peekTime} returned a due time) for its handler: returns its
   * slot, whose handle no longer cancels it. Every hold must be followed by {@link release}.
   */
  hold(): number {
    const slot = this.hs0[0]!;
    this.popHeap0();
    this.n--;
    this.gen[slot] = (this.gen[slot]! + 1) & GEN_MASK;
    this.held = slot;
    return slot;
  }

  /** Kind of the event in `slot`. */
  kindOf(slot: number): number {
    return this.kind[slot]!;
  }

  /** CPU of the event in `slot`. */
  cpuOf(slot: number): number {
    return this.cpu[slot]!;
  }

  /** Integer argument of the event in `slot`. */
  argOf(slot: number): number {
    return this.arg[slot]!;
  }

  /** Ends a {@link hold}: frees the held slot unless a push reused it. */
  release(): void {
    if (this.held === NONE) return;
    this.free[this.nFree++] = this.held;
    this.held = NONE;
  }

  /**
   * Inserts an event and returns its handle (a positive integer). `time` must be at least the
   * time last held, an integer up to {@link MAX_TIME} or Infinity; `priority` an integer in
   * 0..1023 (both checked by the caller). Ties in (time, priority) keep insertion order.
   */
  push(time: number, priority: number, kind: number, cpu: number, arg: number): number {
    let slot = this.held;
    if (slot !== NONE) this.held = NONE;
    else {
      if (this.nFree === 0) this.grow();
      slot = this.free[--this.nFree]!;
    }
    if (time < this.last) this.rebase(time);
    const key = priority * SEQ_SPAN + ++this.seq;
    this.time[slot] = time;
    this.key[slot] = key;
    this.kind[slot] = kind;
    this.cpu[slot] = cpu;
    this.arg[slot] = arg;
    this.n++;
    this.insert(slot, time, key);
    return this.gen[slot]! * SLOT_LIMIT + slot + 1;
  }

  /** Cancels a pending event by handle; false (a no-op) when it already ran or was cancelled. */
  cancel(handle: number): boolean {
    if (!(handle >= 1 && handle <= MAX_TIME)) return false;
    const h = handle - 1;
    const slot = h % SLOT_LIMIT;
    if (slot >= this.kind.length || this.gen[slot] !== (h - slot) / SLOT_LIMIT || this.kind[slot] === DEAD) return false;
    this.kind[slot] = DEAD;
    this.gen[slot] = (this.gen[slot]! + 1) & GEN_MASK;
    this.dead++;
    if (this.dead >= COMPACT_MIN && this.dead * 2 > this.n) this.compact();
    return true;
  }

  /** Files a slot under its bucket relative to `last`. */
  private insert(slot: number, time: number, key: number): void {
    let b: number;
    if (time > MAX_TIME) b = NEVER;
    else {
      const hx = ((time / TWO_32) | 0) ^ this.lastHi;
      if (hx !== 0) b = 64 - Math.clz32(hx);
      else {
        const lx = (time >>> 0) ^ this.lastLo;
        if (lx === 0) {
          this.pushHeap0(slot, time, key);
          return;
        }
        b = 32 - Math.clz32(lx);
      }
    }
    this.link[slot] = this.heads[b]!;
    this.heads[b] = slot;
    if (b < 32) this.maskLo |= 1 << b;
    else this.maskHi |= 1 << (b - 32);
  }

  /**
   * Bucket 0 is empty: makes the lowest non-empty bucket's minimum the new `last` and moves its
   * events down, if that minimum is at most `limit`. Returns 0 when bucket 0 was refilled, else
   * the minimum (Infinity when none).
   */
  private refill(limit: number): number {
    let b: number;
    if (this.maskLo !== 0) b = 31 - Math.clz32(this.maskLo & -this.maskLo);
    else if ((this.maskHi & ~(1 << (NEVER - 32))) !== 0) b = 63 - Math.clz32(this.maskHi & -this.maskHi);
    else return Infinity;
    const time = this.time, kind = this.kind, link = this.link;
    let min = Infinity;
    for (let s = this.heads[b]!; s !== NONE; s = link[s]!) if (kind[s] !== DEAD && time[s]! < min) min = time[s]!;
    if (min > limit && min !== Infinity) return min;
    let s = this.heads[b]!;
    this.heads[b] = NONE;
    if (b < 32) this.maskLo &= ~(1 << b);
    else this.maskHi &= ~(1 << (b - 32));
    if (min !== Infinity) this.setLast(min);
    while (s !== NONE) {
      const next = link[s]!;
      if (kind[s] === DEAD) this.dropDead(s);
      else this.insert(s, time[s]!, this.key[s]!);
      s = next;
    }
    return 0;
  }

  private setLast(t: number): void {
    this.last = t;
    this.lastHi = (t / TWO_32) | 0;
    this.lastLo = t >>> 0;
  }

  private dropDead(slot: number): void {
    this.free[this.nFree++] = slot;
    this.dead--;
    this.n--;
  }

  /** Refiles every event relative to an earlier `last` (an event scheduled before the queue's head moved on). */
  private rebase(t: number): void {
    this.setLast(t);
    this.refileAll();
  }

  /** Drops every dead event. */
  private compact(): void {
    this.refileAll();
  }

  /** Empties every bucket and files the live events again relative to `last`; frees dead ones. */
  private refileAll(): void {
    const slots: number[] = [];
    for (let i = 0; i < this.n0; i++) slots.push(this.hs0[i]!);
    this.n0 = 0;
    for (let b = 1; b <= NEVER; b++) {
      for (let s = this.heads[b]!; s !== NONE; s = this.link[s]!) slots.push(s);
      this.heads[b] = NONE;
    }
    this.maskLo = 0;
    this.maskHi = 0;
    for (const s of slots) {
      if (this.kind[s] === DEAD) this.dropDead(s);
      else this.insert(s, this.time[s]!, this.key[s]!);
    }
  }

  private pushHeap0(slot: number, time: number, key: number): void {
    const tk = this.tk0, hs = this.hs0;
    let i = this.n0++;
    while (i > 0) {
      const p = (i - 1) >> 2;
      const pt = tk[2 * p]!;
      if (pt < time || (pt === time && tk[2 * p + 1]! < key)) break;
      tk[2 * i] = pt;
      tk[2 * i + 1] = tk[2 * p + 1]!;
      hs[i] = hs[p]!;
      i = p;
    }
    tk[2 * i] = time;
    tk[2 * i + 1] = key;
    hs[i] = slot;
  }

  /** Removes bucket 0's head: its last entry takes the root and sifts down. */
  private popHeap0(): void {
    const n = --this.n0;
    if (n === 0) return;
    const tk = this.tk0, hs = this.hs0;
    const time = tk[2 * n]!, key = tk[2 * n + 1]!, slot = hs[n]!;
    let i = 0;
    for (;;) {
      const c0 = 4 * i + 1;
      if (c0 >= n) break;
      let best = c0;
      let bt = tk[2 * c0]!, bk = tk[2 * c0 + 1]!;
      const end = c0 + 4 < n ? c0 + 4 : n;
      for (let c = c0 + 1; c < end; c++) {
        const ct = tk[2 * c]!;
        if (ct < bt || (ct === bt && tk[2 * c + 1]! < bk)) {
          best = c;
          bt = ct;
          bk = tk[2 * c + 1]!;
        }
      }
      if (bt > time || (bt === time && bk > key)) break;
      tk[2 * i] = bt;
      tk[2 * i + 1] = bk;
      hs[i] = hs[best]!;
      i = best;
    }
    tk[2 * i] = time;
    tk[2 * i + 1] = key;
    hs[i] = slot;
  }

  private grow(): void {
    const old = this.kind.length;
    if (old >= SLOT_LIMIT) {
      throw new Error(`event queue: ${old} pending events is the limit (valid: at most ${SLOT_LIMIT} scheduled and not yet run)`);
    }
    const cap = Math.min(SLOT_LIMIT, old * 2);
    const f64 = (a: Float64Array, len: number): Float64Array => {
      const b = new Float64Array(len);
      b.set(a);
      return b;
    };
    const i32 = (a: Int32Array, len: number): Int32Array => {
      const b = new Int32Array(len);
      b.set(a);
      return b;
    };
    this.time = f64(this.time, cap);
    this.key = f64(this.key, cap);
    this.kind = i32(this.kind, cap);
    this.cpu = i32(this.cpu, cap);
    this.arg = f64(this.arg, cap);
    this.gen = i32(this.gen, cap);
    this.link = i32(this.link, cap);
    this.tk0 = f64(this.tk0, 2 * cap);
    this.hs0 = i32(this.hs0, cap);
    this.free = new Int32Array(cap);
    for (let i = 0; i < cap - old; i++) this.free[i] = cap - 1 - i;
    this.nFree = cap - old;
  }
}
