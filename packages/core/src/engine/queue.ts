/**
 * A monotone priority queue of simulation events ordered exactly by (time, priority, sequence):
 * a radix heap over integer nanoseconds whose lowest bucket is a flat 4-ary heap.
 *
 * Simulated time never goes back, so every new event is at or after `last`, the time most
 * recently taken from the queue. An event whose time differs from `last` first in bit b >= 3
 * sits in bucket b + 1, an unordered singly linked list; an event in `last`'s 8 ns block sits in
 * bucket 0, a typed-array 4-ary heap on (time, priority * 2^40 + sequence). When bucket 0 runs
 * dry, the least time filed in the lowest non-empty bucket (kept per bucket) becomes `last`, and
 * that bucket's events move to lower buckets. An event moves at most 50 times and usually a few, with mostly
 * predictable branches; a heap pays about log4(n) unpredictable comparisons per event. An event
 * pushed when it is earlier than everything queued (a short segment's completion, typically) is
 * held in a one-event lane instead and taken from there without being filed at all.
 *
 * Events live in slots (time, key, kind, cpu, arg, link); no object is allocated per event. An
 * event's handle is its sequence number, and its slot is that number modulo the capacity
 * (sequence numbers whose slot is taken are skipped, and the capacity stays at least twice the
 * number of events), so a handle is a small integer and cancelling is O(1) and exact: the slot is
 * marked dead and dropped when it is next moved, reaches the head, or when dead events
 * outnumber live ones.
 */

/** At most 2^22 (4,194,304) pending events. */
const SLOT_LIMIT = 2 ** 22;
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
/** Marks a free slot's key. */
const FREE = -1;
/** No slot. */
const NONE = -1;
/** Dead events tolerated before a compaction is considered. */
const COMPACT_MIN = 64;
const TWO_32 = 4294967296;
/** 2^-32: multiplying by it is exact and cheaper than dividing by 2^32. */
const INV_TWO_32 = 1 / TWO_32;
/** Bucket 0 (the heap) takes every event in the same 2^HEAP0_BITS ns block as `last`. */
const HEAP0_BITS = 3;
/** What refill() returns when it moved the next events into bucket 0 (times are never negative). */
const REFILLED = -1;

/** A priority queue of simulation events keyed by (time, priority, sequence). */
export class EventQueue {
  private time: Float64Array;
  private key: Float64Array;
  private kind: Int32Array;
  private cpu: Int32Array;
  private arg: Float64Array;
  /** Next slot in the same bucket list. */
  private link: Int32Array;
  /** Capacity - 1 (a power of two minus one): an event's slot is its sequence number & mask. */
  private mask: number;
  /** Bucket 0: [time, key] pairs of heap position i at 2i and 2i + 1, and the slot at i. */
  private tk0: Float64Array;
  private hs0: Int32Array;
  private n0 = 0;
  /**
   * The next event when it is known to precede every queued one (strictly earlier than the least
   * time queued), else NONE: an event scheduled before everything else pending (a segment's
   * completion, usually) is taken from here without being filed in a bucket and moved down.
   */
  private lane = NONE;
  /** First slot of buckets 1..NEVER, NONE when empty; bit b of maskLo/maskHi set when b (or b + 32) is non-empty. */
  private readonly heads = new Int32Array(NEVER + 1).fill(NONE);
  /** Least time filed in each bucket since it was last emptied (dead events included). */
  private readonly mins = new Float64Array(NEVER + 1).fill(Infinity);
  private maskLo = 0;
  private maskHi = 0;
  /** Time most recently taken (split in 32-bit halves of its integer part). */
  private lastHi = 0;
  private lastLo = 0;
  private last = 0;
  /** Events in the queue, dead ones included. */
  private n = 0;
  private dead = 0;
  private seq = 0;

  constructor(capacity = 1024) {
    let cap = 4;
    while (cap < capacity && cap < SLOT_LIMIT) cap *= 2;
    this.mask = cap - 1;
    this.time = new Float64Array(cap);
    this.key = new Float64Array(cap);
    this.kind = new Int32Array(cap);
    this.cpu = new Int32Array(cap);
    this.arg = new Float64Array(cap);
    this.key.fill(FREE);
    this.link = new Int32Array(cap);
    this.tk0 = new Float64Array(2 * cap);
    this.hs0 = new Int32Array(cap);
  }

  /** Number of pending events (cancelled ones excluded). */
  get size(): number {
    return this.n - this.dead;
  }

  /**
   * Time of the earliest pending event if it is at most `limit`, else some time later than
   * `limit` (Infinity when nothing will ever be due). Drops dead events met on the way.
   */
  peekTime(limit: number = MAX_TIME): number {
    // The common case stays small enough to be inlined into the caller's loop (a time returned
    // from a call that is not inlined is boxed).
    const lane = this.lane;
    if (lane !== NONE) {
      if (this.kind[lane] !== DEAD) return this.time[lane]!;
    } else if (this.n0 > 0 && this.kind[this.hs0[0]!] !== DEAD) return this.tk0[0]!;
    return this.peekSlow(limit);
  }

  /** {@link peekTime} after dropping a dead lane or heap head, or refilling bucket 0. */
  private peekSlow(limit: number): number {
    const kind = this.kind;
    for (;;) {
      const lane = this.lane;
      if (lane !== NONE) {
        if (kind[lane] !== DEAD) return this.time[lane]!;
        this.lane = NONE;
        this.dropDead(lane);
        continue;
      }
      if (this.n0 > 0) {
        const slot = this.hs0[0]!;
        if (kind[slot] !== DEAD) return this.tk0[0]!;
        this.popHeap0();
        this.dropDead(slot);
        continue;
      }
      const next = this.refill(limit);
      if (next !== REFILLED) return next;
    }
  }

  /**
   * Takes the head event (after {@link peekTime} returned a due time): returns its slot, whose
   * kind, cpu and arg stay readable until the next {@link push}; its handle no longer cancels it.
   */
  take(): number {
    const lane = this.lane;
    if (lane !== NONE) {
      this.lane = NONE;
      this.n--;
      this.key[lane] = FREE;
      return lane;
    }
    const slot = this.hs0[0]!;
    this.popHeap0();
    this.n--;
    this.key[slot] = FREE;
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

  /**
   * Inserts an event and returns its handle (a positive integer). `time` must be a non-negative
   * integer up to {@link MAX_TIME} or Infinity, and `priority` an integer in 0..1023 (both checked
   * by the caller); a time before the one last taken costs refiling every event. Ties in
   * (time, priority) keep insertion order.
   */
  push(time: number, priority: number, kind: number, cpu: number, arg: number): number {
    if (2 * this.n >= this.mask) this.grow();
    const keys = this.key, mask = this.mask;
    let seq = this.seq + 1;
    while (keys[seq & mask]! !== FREE) seq++;
    this.seq = seq;
    const slot = seq & mask;
    if (time < this.last) this.rebase(time);
    const key = priority * SEQ_SPAN + seq;
    this.time[slot] = time;
    keys[slot] = key;
    this.kind[slot] = kind;
    this.cpu[slot] = cpu;
    this.arg[slot] = arg;
    this.n++;
    const lane = this.lane;
    if (lane === NONE) {
      if (this.precedesQueued(time)) this.lane = slot;
      else this.insert(slot);
    } else {
      const lt = this.time[lane]!;
      if (time < lt || (time === lt && key < keys[lane]!)) {
        // The new event precedes the lane's, which precedes everything queued: swap them.
        this.lane = slot;
        this.insert(lane);
      } else this.insert(slot);
    }
    return seq;
  }

  /** Cancels a pending event by handle; false (a no-op) when it already ran or was cancelled. */
  cancel(handle: number): boolean {
    if (!(handle >= 1 && handle <= this.seq)) return false;
    const slot = handle & this.mask;
    if (this.key[slot]! % SEQ_SPAN !== handle || this.kind[slot] === DEAD) return false;
    this.kind[slot] = DEAD;
    this.dead++;
    if (this.dead >= COMPACT_MIN && this.dead * 2 > this.n) this.compact();
    return true;
  }

  /**
   * Whether `time` is earlier than every queued event (the lane excluded): than bucket 0's head, else
   * than the least time filed in the lowest non-empty bucket (dead events included). A boolean, so
   * that no time is boxed on the way out.
   */
  private precedesQueued(time: number): boolean {
    if (this.n0 > 0) return time < this.tk0[0]!;
    let b: number;
    if (this.maskLo !== 0) b = 31 - Math.clz32(this.maskLo & -this.maskLo);
    else if (this.maskHi !== 0) b = 63 - Math.clz32(this.maskHi & -this.maskHi);
    else return true;
    return time < this.mins[b]!;
  }

  /** Files a slot under its bucket relative to `last`. */
  private insert(slot: number): void {
    // Times and keys are read here rather than passed: a double argument to a call that is not
    // inlined is boxed.
    const time = this.time[slot]!;
    let b: number;
    if (time > MAX_TIME) b = NEVER;
    else {
      const hx = ((time * INV_TWO_32) | 0) ^ this.lastHi;
      if (hx !== 0) b = 64 - Math.clz32(hx);
      else {
        const lx = (time >>> 0) ^ this.lastLo;
        if (lx >>> HEAP0_BITS === 0) {
          this.pushHeap0(slot);
          return;
        }
        b = 32 - Math.clz32(lx);
      }
    }
    this.link[slot] = this.heads[b]!;
    this.heads[b] = slot;
    if (time < this.mins[b]!) this.mins[b] = time;
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
    // The minimum may be a dead event's time: still a valid `last` (the dead are dropped below).
    const min = this.mins[b]!;
    if (min > limit) return min;
    let s = this.heads[b]!;
    this.heads[b] = NONE;
    this.mins[b] = Infinity;
    if (b < 32) this.maskLo &= ~(1 << b);
    else this.maskHi &= ~(1 << (b - 32));
    this.setLast(min);
    if (b > 32) {
      while (s !== NONE) {
        const next = link[s]!;
        if (kind[s] === DEAD) this.dropDead(s);
        else this.insert(s);
        s = next;
      }
      return REFILLED;
    }
    // Bucket b <= 32: its events share `last`'s high half, so only low halves are compared.
    const heads = this.heads, mins = this.mins, lastLo = this.lastLo;
    let maskLo = this.maskLo;
    while (s !== NONE) {
      const next = link[s]!;
      if (kind[s] === DEAD) this.dropDead(s);
      else {
        const t = time[s]!;
        const lx = (t >>> 0) ^ lastLo;
        if (lx >>> HEAP0_BITS === 0) this.pushHeap0(s);
        else {
          const nb = 32 - Math.clz32(lx);
          link[s] = heads[nb]!;
          heads[nb] = s;
          if (t < mins[nb]!) mins[nb] = t;
          maskLo |= 1 << nb;
        }
      }
      s = next;
    }
    this.maskLo = maskLo;
    return REFILLED;
  }

  private setLast(t: number): void {
    this.last = t;
    this.lastHi = (t * INV_TWO_32) | 0;
    this.lastLo = t >>> 0;
  }

  private dropDead(slot: number): void {
    this.key[slot] = FREE;
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
    this.file(this.drain());
  }

  /** Empties bucket 0 and every bucket list; returns the slots they held. */
  private drain(): number[] {
    const slots: number[] = [];
    if (this.lane !== NONE) slots.push(this.lane);
    this.lane = NONE;
    for (let i = 0; i < this.n0; i++) slots.push(this.hs0[i]!);
    this.n0 = 0;
    for (let b = 1; b <= NEVER; b++) {
      for (let s = this.heads[b]!; s !== NONE; s = this.link[s]!) slots.push(s);
      this.heads[b] = NONE;
      this.mins[b] = Infinity;
    }
    this.maskLo = 0;
    this.maskHi = 0;
    return slots;
  }

  /** Files drained slots again relative to `last`; frees dead ones. */
  private file(slots: number[]): void {
    for (const s of slots) {
      if (this.kind[s] === DEAD) this.dropDead(s);
      else this.insert(s);
    }
  }

  private pushHeap0(slot: number): void {
    const tk = this.tk0, hs = this.hs0;
    const time = this.time[slot]!, key = this.key[slot]!;
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

  /** Doubles the capacity: every event moves to the slot its sequence number names in the larger table. */
  private grow(): void {
    const old = this.mask + 1;
    if (old >= SLOT_LIMIT) {
      throw new Error(`event queue: ${this.n} pending events is the limit (valid: at most ${SLOT_LIMIT / 2} scheduled and not yet run)`);
    }
    const cap = old * 2, mask = cap - 1;
    const oTime = this.time, oKey = this.key, oKind = this.kind, oCpu = this.cpu, oArg = this.arg;
    const slots = this.drain();
    this.mask = mask;
    this.time = new Float64Array(cap);
    this.key = new Float64Array(cap).fill(FREE);
    this.kind = new Int32Array(cap);
    this.cpu = new Int32Array(cap);
    this.arg = new Float64Array(cap);
    this.link = new Int32Array(cap);
    this.tk0 = new Float64Array(2 * cap);
    this.hs0 = new Int32Array(cap);
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i]!;
      const slot = (oKey[s]! % SEQ_SPAN) & mask;
      this.time[slot] = oTime[s]!;
      this.key[slot] = oKey[s]!;
      this.kind[slot] = oKind[s]!;
      this.cpu[slot] = oCpu[s]!;
      this.arg[slot] = oArg[s]!;
      slots[i] = slot;
    }
    this.file(slots);
  }
}
