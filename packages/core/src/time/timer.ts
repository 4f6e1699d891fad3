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
  /** Absolute expiry (a jiffy boundary), ns. */
  expires: Nanoseconds;
  /** CPU whose base holds it, or -1 when not pending. */
  cpu: number;
}

/** Creates a timer_list (timer_setup()). */
export function timerSetup(name: string, fn: () => void, deferrable = false): TimerList {
  return { name, fn, deferrable, expires: 0, cpu: -1 };
}

/** Per-CPU timer wheels, reduced to sorted lists (kernel/time/timer.c). */
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

  /** Queues or re-queues the timer on `cpu` to expire at `expires` (add_timer_on()/mod_timer()). */
  addOn(t: TimerList, cpu: number, expires: Nanoseconds): void {
    if (t.cpu >= 0) this.del(t);
    t.expires = this.jiffyAligned(expires);
    t.cpu = cpu;
    const base = this.bases[cpu]!;
    const at = t.expires;
    let i = base.length;
    while (i > 0 && base[i - 1]!.expires > at) i--;
    insertAt(base, i, t);
    this.refresh(cpu);
    if (!t.deferrable) this.k.tick.timerAdded(cpu, t.expires);
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
    this.first[cpu] = b.length > 0 ? b[0]!.expires : Infinity;
    let next = Infinity;
    for (let i = 0; i < b.length; i++) {
      if (!b[i]!.deferrable) {
        next = b[i]!.expires;
        break;
      }
    }
    this.firstNonDeferrable[cpu] = next;
  }

  /** Whether any timer of `cpu` has expired by `now` (run_local_timers() raising TIMER_SOFTIRQ). */
  hasExpired(cpu: number, now: Nanoseconds): boolean {
    return this.first[cpu]! <= now;
  }

  /** Runs every expired timer of `cpu` in expiry order (run_timer_softirq() → __run_timers()). */
  runExpired(cpu: number, now: Nanoseconds): void {
    const b = this.bases[cpu]!;
    while (b.length > 0 && b[0]!.expires <= now) {
      const t = b.shift()!;
      t.cpu = -1;
      this.refresh(cpu);
      this.k.trace?.instant(cpu, `timer_expire_entry: ${t.name}`, now);
      t.fn();
    }
  }

  /** Expiry of the earliest non-deferrable timer of `cpu`, or Infinity (get_next_timer_interrupt()). */
  nextNonDeferrable(cpu: number): Nanoseconds {
    return this.firstNonDeferrable[cpu]!;
  }
}
