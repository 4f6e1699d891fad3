import type { Nanoseconds } from "../engine/engine.js";
import type { Kernel } from "../kernel.js";
import { NO_SOURCE } from "../accounting/sources.js";
import { SOFTIRQ_TIMER } from "./tick-sched.js";
import { insertAt, removeAt } from "../util/array.js";

/** A timer_list: a callback run from the timer softirq of its CPU once its expiry has passed. */
export interface TimerList {
  /** Name shown in traces (the callback's kernel name, e.g. `vmstat_update`). */
  readonly name: string;
  /** The callback (runs in softirq context on the timer's CPU). */
  readonly fn: () => void;
  /** TIMER_DEFERRABLE: ignored when choosing the next tick of an idle/tickless CPU. */
  readonly deferrable: boolean;
  /** timer->expires: the absolute expiry the caller asked for (a jiffy boundary), ns. */
  expires: Nanoseconds;
  /**
   * When the wheel runs it: the expiry of the bucket calc_wheel_index() filed it in (a jiffy boundary
   * at or after {@link expires}, later by up to its level's granularity), ns.
   */
  fires: Nanoseconds;
  /** CPU whose base holds it, or -1 when not pending. */
  cpu: number;
}

/** Creates a timer_list (timer_setup()). */
export function timerSetup(name: string, fn: () => void, deferrable = false): TimerList {
  return { name, fn, deferrable, expires: 0, fires: 0, cpu: -1 };
}

/** LVL_CLK_SHIFT (kernel/time/timer.c, v4.8+, line 150 of v4.9): each wheel level's clock runs 8 times slower than the one below. */
export const LVL_CLK_SHIFT = 3;
/** LVL_BITS (kernel/time/timer.c, line 163 of v4.9): 64 buckets per level. */
export const LVL_BITS = 6;

/** LVL_DEPTH (kernel/time/timer.c, lines 169-173 of v4.9): 9 levels when HZ > 100, else 8. */
export function lvlDepth(hz: number): number {
  return hz > 100 ? 9 : 8;
}

/** LVL_GRAN(lvl): the granularity of wheel level `lvl`, jiffies (1, 8, 64, ...). */
export function lvlGran(lvl: number): number {
  return 2 ** (lvl * LVL_CLK_SHIFT);
}

/** LVL_START(lvl), lvl >= 1: the smallest delta (jiffies) filed at level `lvl` ((LVL_SIZE - 1) << ((lvl - 1) * LVL_CLK_SHIFT)). */
export function lvlStart(lvl: number): number {
  return (2 ** LVL_BITS - 1) * lvlGran(lvl - 1);
}

/**
 * The jiffy at which the timer wheel runs a timer of expiry `expires` (jiffies) armed when the base's
 * clock reads `clk`. kernel/time/timer.c of v4.9: calc_wheel_index() (lines 474-508) picks the level
 * by the delta `expires - clk` (level n holds deltas below LVL_START(n + 1), the macros of lines
 * 150-177; past the last level the expiry is clamped to WHEEL_TIMEOUT_MAX) and calc_index() (lines
 * 468-472) files it in the bucket `(expires + LVL_GRAN(lvl)) >> LVL_SHIFT(lvl)`, which
 * __run_timers() (line 1625) → __collect_expired_timers() (line 1354) empties when base->clk reaches
 * that bucket's jiffy (level n is looked at only when the low 3n bits of clk are zero): so a timer
 * never fires early, fires one jiffy after `expires` at level 0, and up to LVL_GRAN(lvl) jiffies
 * after it above. An expiry already past (delta < 0) goes in the bucket of `clk` and runs at the
 * next __run_timers().
 */
export function wheelExpiry(expires: number, clk: number, hz: number): number {
  const delta = expires - clk;
  if (delta < 0) return clk;
  const depth = lvlDepth(hz);
  let lvl = 0;
  while (lvl < depth - 1 && delta >= lvlStart(lvl + 1)) lvl++;
  let e = expires;
  if (lvl === depth - 1) {
    // WHEEL_TIMEOUT_CUTOFF / WHEEL_TIMEOUT_MAX: 4.9 compares the absolute expiry with the cutoff; the
    // model's jiffies start at 0, so this is the same test on the delta.
    const cutoff = lvlStart(depth);
    if (delta >= cutoff) e = clk + cutoff - lvlGran(depth - 1);
  }
  const gran = lvlGran(lvl);
  return Math.floor((e + gran) / gran) * gran;
}

/**
 * Per-CPU timer wheels (kernel/time/timer.c), each reduced to a list sorted by the expiry of the
 * bucket a timer was filed in ({@link wheelExpiry}): the order the wheel runs them in.
 */
export class TimerBases {
  private readonly bases: TimerList[][];
  /** base->next_expiry per CPU: expiry of the CPU's first timer, or Infinity (kept as the lists change). */
  private readonly first: Float64Array;
  /** Expiry of each CPU's first non-deferrable timer, or Infinity (kept as the lists change). */
  private readonly firstNonDeferrable: Float64Array;

  constructor(private readonly k: Kernel) {
    this.bases = Array.from({ length: k.nrCpus }, () => []);
    this.first = new Float64Array(k.nrCpus).fill(Infinity);
    this.firstNonDeferrable = new Float64Array(k.nrCpus).fill(Infinity);
    k.irq.openSoftirq(SOFTIRQ_TIMER, { name: "TIMER", source: NO_SOURCE, costNs: k.params.timerSoftirqNs, action: (cpu) => this.runExpired(cpu, k.engine.now) });
  }

  /** Whether the timer is pending (timer_pending()). */
  pending(t: TimerList): boolean {
    return t.cpu >= 0;
  }

  /** Jiffy boundary at or after `delay` ns from now (jiffies-based expiry). */
  jiffyAligned(at: Nanoseconds): Nanoseconds {
    const p = this.k.tickPeriod;
    return Math.ceil(at / p) * p;
  }

  /**
   * Queues or re-queues the timer on `cpu` to expire at `expires` (add_timer_on()/mod_timer() →
   * internal_add_timer()): filed by calc_wheel_index() against the base clock, taken as the current
   * jiffy (base->clk as forward_timer_base() leaves it from v4.14; 4.9 can file against a clock left
   * behind by a tickless stretch, which only coarsens the level).
   */
  addOn(t: TimerList, cpu: number, expires: Nanoseconds): void {
    if (t.cpu >= 0) this.del(t);
    const k = this.k;
    const p = k.tickPeriod;
    t.expires = this.jiffyAligned(expires);
    t.fires = wheelExpiry(Math.round(t.expires / p), Math.floor(k.engine.now / p), k.params.hz) * p;
    t.cpu = cpu;
    const base = this.bases[cpu]!;
    const at = t.fires;
    let i = base.length;
    while (i > 0 && base[i - 1]!.fires > at) i--;
    insertAt(base, i, t);
    this.refresh(cpu);
    if (!t.deferrable) k.tick.timerAdded(cpu, t.fires);
  }

  /** Removes a pending timer (del_timer()); returns whether it was pending. */
  del(t: TimerList): boolean {
    if (t.cpu < 0) return false;
    const cpu = t.cpu;
    const base = this.bases[cpu]!;
    const i = base.indexOf(t);
    if (i >= 0) {
      removeAt(base, i);
      this.refresh(cpu);
    }
    t.cpu = -1;
    return true;
  }

  /** Recomputes {@link first} and {@link firstNonDeferrable} of `cpu` after its list changed. */
  private refresh(cpu: number): void {
    const b = this.bases[cpu]!;
    this.first[cpu] = b.length > 0 ? b[0]!.fires : Infinity;
    let next = Infinity;
    for (let i = 0; i < b.length; i++) {
      if (!b[i]!.deferrable) {
        next = b[i]!.fires;
        break;
      }
    }
    this.firstNonDeferrable[cpu] = next;
  }

  /** Whether any bucket of `cpu` holding a timer has expired by `now` (run_local_timers() raising TIMER_SOFTIRQ). */
  hasExpired(cpu: number, now: Nanoseconds): boolean {
    return this.first[cpu]! <= now;
  }

  /** Runs every timer of `cpu` whose bucket has expired, in bucket order (run_timer_softirq() → __run_timers()). */
  runExpired(cpu: number, now: Nanoseconds): void {
    const b = this.bases[cpu]!;
    while (b.length > 0 && b[0]!.fires <= now) {
      const t = b.shift()!;
      t.cpu = -1;
      this.refresh(cpu);
      this.k.trace?.instant(cpu, `timer_expire_entry: ${t.name}`, now);
      t.fn();
    }
  }

  /** When the wheel runs the earliest non-deferrable timer of `cpu` (its bucket's expiry), or Infinity (get_next_timer_interrupt() → __next_timer_interrupt()). */
  nextNonDeferrable(cpu: number): Nanoseconds {
    return this.firstNonDeferrable[cpu]!;
  }
}
