/**
 * RCU invariant checker. It observes CPUs through its own hooks (ticks, context switches, the
 * context-tracking word) rather than trusting the subsystem's bookkeeping:
 * - `rcu-gp-progress`: grace periods keep completing (none older than the stall timeout) and none
 *   waits on a CPU that stays in user/idle (EQS) longer than two FQS intervals;
 * - `rcu-callbacks-invoked`: every callback runs exactly once, after a grace period that started
 *   after its call_rcu() ended and during which every CPU was seen passing a quiescent state, and
 *   no later than params.rcuCallbackInvokeBoundNs after that grace period ended (every late one
 *   counts; the first {@link MAX_LOST_LISTED} are listed, then a total); at the end, every callback
 *   queued more than that bound before the end must have run. A lazy callback (CONFIG_RCU_LAZY) has
 *   no grace period asked for it until its bypass list is flushed, up to {@link lazyAllowanceNs}
 *   after call_rcu(): its deadline is the later of the covering grace period's end and that
 *   allowance, plus the bound (see docs/model.md, "RCU on 6.12");
 * - `rcu-forced-tick`: a nohz_full CPU looping in the kernel that holds up a grace period is forced
 *   (4.9: resched_cpu() makes it context-switch; 6.1: TICK_DEP_BIT_RCU) by jiffies_till_sched_qs plus
 *   one FQS interval.
 */
import type { Kernel } from "../kernel.js";
import { Context, CtState, CT_RCU_WATCHING, CT_STATE_MASK } from "../machine/cpu.js";
import { TickDep } from "../time/tick-sched.js";
import type { Rcu, RcuCallback, RcuState } from "./tree.js";

/** Bits of a context-tracking word below its RCU-watching counter (state and deferred work). */
const CT_LOW_BITS = CT_RCU_WATCHING - 1;

/** Per-flavour snapshot of every CPU at the start of its current grace period. */
interface GpSnapshot {
  readonly eqs: Uint8Array;
  /** The counter part of each context-tracking word (the word less its low bits: CT_RCU_WATCHING × rcu_dynticks counter). */
  readonly counter: Float64Array;
  readonly cs: Float64Array;
  readonly ticks: Float64Array;
  readonly ticksUserIdle: Float64Array;
  /** Highest completed grace period during which every CPU was seen quiescent. */
  lastFullGp: number;
  /** Why the last grace period that was not full was not (violation detail). */
  lastBogus: string;
}

/** Lost callbacks listed one by one in the violations; the rest are counted into one total. */
const MAX_LOST_LISTED = 10;

/**
 * One flavour's callbacks in call_rcu() order (their covering grace periods, gpnumAtQueue + 1, never
 * decrease along it), with when each may be invoked at the latest once its grace period has ended.
 */
interface CallbackQueue {
  /** Callbacks from {@link head} on; earlier slots are dropped when the queue compacts. */
  readonly cbs: RcuCallback[];
  /** Per slot of {@link cbs}: the latest invocation time, ns, or -1 while the covering grace period runs. */
  readonly deadline: number[];
  /** First slot still watched. */
  head: number;
  /** First slot whose covering grace period has not ended. */
  covered: number;
}

/** Live checks of the RCU invariants (rcu-gp-progress, rcu-callbacks-invoked, rcu-forced-tick). */
export class RcuChecker {
  private readonly waiting = new Map<number, RcuCallback>();
  /** Callbacks declared lost (not invoked in time) that have not run since: a late run is no double invocation. */
  private readonly lost = new Set<number>();
  /** Callbacks not invoked in time, all counted. */
  lostTotal = 0;
  /** Per flavour f, its non-lazy callbacks in call order at f and its lazy ones at nf + f, with invocation deadlines (each list's deadlines follow its call order). */
  private readonly queues: CallbackQueue[];
  private readonly cs: Float64Array;
  private readonly lastCsAt: Float64Array;
  private readonly ticks: Float64Array;
  private readonly ticksUserIdle: Float64Array;
  private readonly snaps: GpSnapshot[];
  private readonly reported = new Set<string>();
  /** Per CPU, 1 if it is nohz_full (only there is user mode an EQS; read without touching the Cpu). */
  private readonly nohzFull: Uint8Array;

  constructor(
    private readonly k: Kernel,
    private readonly rcu: Rcu,
  ) {
    const n = k.nrCpus;
    this.cs = new Float64Array(n);
    this.lastCsAt = new Float64Array(n).fill(-1);
    this.ticks = new Float64Array(n);
    this.ticksUserIdle = new Float64Array(n);
    this.nohzFull = Uint8Array.from(k.cpus, (c) => (c.nohzFull ? 1 : 0));
    this.snaps = rcu.flavours.map(() => ({
      eqs: new Uint8Array(n),
      counter: new Float64Array(n),
      cs: new Float64Array(n),
      ticks: new Float64Array(n),
      ticksUserIdle: new Float64Array(n),
      lastFullGp: 0,
      lastBogus: "",
    }));
    this.queues = [...rcu.flavours, ...rcu.flavours].map(() => ({ cbs: [], deadline: [], head: 0, covered: 0 }));
    k.invariants.check("rcu-gp-progress");
    k.invariants.check("rcu-callbacks-invoked");
    k.invariants.check("rcu-forced-tick");
    k.hooks.contextSwitch.push((cpu) => {
      this.cs[cpu]!++;
      this.lastCsAt[cpu] = k.engine.now;
    });
    k.hooks.tick.push((cpu) => {
      this.ticks[cpu]!++;
      const ctx = k.cpus[cpu]!.interruptedCtx;
      if (ctx === Context.user || ctx === Context.idle) this.ticksUserIdle[cpu]!++;
      if (cpu === rcu.gpCpu) {
        this.checkDeadlines();
        this.sample();
      }
    });
    k.invariants.atEnd.push(() => this.atEnd());
  }

  private once(id: "rcu-gp-progress" | "rcu-callbacks-invoked" | "rcu-forced-tick", key: string, cpu: number, detail: () => string): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.k.invariants.violate(id, cpu, detail());
  }

  /** A grace period started (rcu_gp_init()): snapshot every CPU. */
  gpStarted(rsp: RcuState): void {
    const s = this.snaps[rsp.flavour.index]!;
    const cpus = this.k.cpus;
    const eqs = s.eqs, counter = s.counter, nohzFull = this.nohzFull;
    for (let i = 0; i < cpus.length; i++) {
      const w = cpus[i]!.ctWord;
      const st = w & CT_STATE_MASK;
      eqs[i] = st === CtState.idle || (st === CtState.user && nohzFull[i] === 1) ? 1 : 0;
      counter[i] = w - (w & CT_LOW_BITS);
    }
    s.cs.set(this.cs);
    s.ticks.set(this.ticks);
    s.ticksUserIdle.set(this.ticksUserIdle);
  }

  /** A grace period ended (rcu_gp_cleanup()): it is full only if every CPU was seen passing a quiescent state of this flavour. */
  gpEnded(rsp: RcuState): void {
    this.coverCallbacks(rsp);
    const s = this.snaps[rsp.flavour.index]!;
    const name = rsp.flavour.name;
    // A context switch is a quiescent state for all but rcu_bh; a tick outside user/idle for all but rcu_sched.
    const csQs = name !== "rcu_bh", tickQs = name !== "rcu_sched";
    const cpus = this.k.cpus;
    const eqs = s.eqs, counter = s.counter, cs = this.cs, ticks = this.ticks, ticksUserIdle = this.ticksUserIdle, nohzFull = this.nohzFull;
    for (let i = 0; i < cpus.length; i++) {
      if (eqs[i] === 1) continue;
      const w = cpus[i]!.ctWord;
      const st = w & CT_STATE_MASK;
      const qs =
        st === CtState.idle ||
        (st === CtState.user && nohzFull[i] === 1) ||
        w - (w & CT_LOW_BITS) - counter[i]! >= 2 * CT_RCU_WATCHING ||
        ticksUserIdle[i]! > s.ticksUserIdle[i]! ||
        (csQs && cs[i]! > s.cs[i]!) ||
        (tickQs && ticks[i]! > s.ticks[i]!);
      if (!qs) {
        s.lastBogus = `${name} grace period ${rsp.completed} ended although CPU ${i} passed no quiescent state during it`;
        return;
      }
    }
    s.lastFullGp = rsp.completed;
  }

  /** call_rcu() queued `cb`. */
  queued(cb: RcuCallback): void {
    this.waiting.set(cb.id, cb);
    const q = this.queues[cb.lazy ? this.rcu.flavours.length + cb.flavour : cb.flavour]!;
    q.cbs.push(cb);
    q.deadline.push(-1);
  }

  /** Grace period `rsp.completed` ended: the callbacks it covers (queued before it started) must run within the bound. */
  private coverCallbacks(rsp: RcuState): void {
    const q = this.queues[rsp.flavour.index]!;
    const bound = this.k.params.rcuCallbackInvokeBoundNs;
    const due = this.k.engine.now + bound;
    const cbs = q.cbs, deadline = q.deadline;
    let i = q.covered;
    while (i < cbs.length && cbs[i]!.gpnumAtQueue + 1 <= rsp.completed) deadline[i++] = due;
    q.covered = i;
    const lq = this.queues[this.rcu.flavours.length + rsp.flavour.index]!;
    if (lq.covered === lq.cbs.length) return;
    const allowance = this.lazyAllowanceNs() + bound;
    const lcbs = lq.cbs, ldeadline = lq.deadline;
    let l = lq.covered;
    while (l < lcbs.length && lcbs[l]!.gpnumAtQueue + 1 <= rsp.completed) {
      ldeadline[l] = Math.max(due, lcbs[l]!.queuedAt + allowance);
      l++;
    }
    lq.covered = l;
  }

  /**
   * Longest a lazy callback may wait before its grace period is asked for: its bypass list is
   * flushed by the GP kthread's nocb_timer (jiffies_lazy_flush ahead, late by up to its timer-wheel
   * level's granularity, at most an eighth, and by the strict time_after() a jiffy) or, when that
   * pass finds the list younger than jiffies_lazy_flush, by the timer it re-arms: twice that, ns.
   */
  private lazyAllowanceNs(): number {
    const k = this.k;
    return 2 * (Math.ceil((k.params.rcuLazyFlushNs * 9) / 8) + 2 * k.tickPeriod);
  }

  /**
   * At each tick of the GP kthread's CPU: every callback whose deadline has passed and that has not
   * run is lost (one violation each for the first few, all counted). Only the head of each queue is
   * looked at: deadlines follow call order.
   */
  private checkDeadlines(): void {
    const now = this.k.engine.now;
    const queues = this.queues;
    for (let f = 0; f < queues.length; f++) {
      const q = queues[f]!;
      const cbs = q.cbs, deadline = q.deadline;
      let h = q.head;
      while (h < q.covered) {
        const cb = cbs[h]!;
        if (this.waiting.has(cb.id)) {
          this.k.invariants.evaluate("rcu-callbacks-invoked");
          if (deadline[h]! >= now) break;
          this.declareLost(
            cb,
            cb.lazy
              ? `${now - deadline[h]!} ns past its deadline (lazy: the later of its grace period's end and ${this.lazyAllowanceNs()} ns after call_rcu(), plus the bound)`
              : `${now - deadline[h]! + this.k.params.rcuCallbackInvokeBoundNs} ns after its grace period ended`,
          );
        }
        h++;
      }
      q.head = h;
      if (h > 1024 && h * 2 > cbs.length) {
        cbs.splice(0, h);
        deadline.splice(0, h);
        q.covered -= h;
        q.head = 0;
      }
    }
  }

  /** `cb` was not invoked in time: counted, and listed while fewer than MAX_LOST_LISTED are. */
  private declareLost(cb: RcuCallback, how: string): void {
    this.waiting.delete(cb.id);
    this.lost.add(cb.id);
    this.lostTotal++;
    if (this.lostTotal <= MAX_LOST_LISTED) {
      const name = this.rcu.flavours[cb.flavour]!.name;
      this.k.invariants.violate("rcu-callbacks-invoked", cb.cpu, `callback ${cb.id} queued on CPU ${cb.cpu} at ${cb.queuedAt} ns (${name}, needs GP ${cb.gpnumAtQueue + 1}) not invoked ${how} (bound ${this.k.params.rcuCallbackInvokeBoundNs} ns; lost callback ${this.lostTotal})`);
    }
  }

  /** `cb` is being invoked: exactly once, after a full grace period that started after it was queued. */
  invoked(cb: RcuCallback): void {
    const rsp = this.rcu.states[cb.flavour]!;
    this.k.invariants.evaluate("rcu-callbacks-invoked");
    if (this.lost.delete(cb.id)) return;
    if (!this.waiting.delete(cb.id)) {
      this.once("rcu-callbacks-invoked", `twice:${cb.id}`, cb.cpu, () => `callback ${cb.id} from CPU ${cb.cpu} invoked more than once (or never queued)`);
      return;
    }
    const need = cb.gpnumAtQueue + 1;
    if (rsp.completed < need) {
      this.once("rcu-callbacks-invoked", `early:${cb.flavour}:${rsp.completed}`, cb.cpu, () => `callback ${cb.id} queued on CPU ${cb.cpu} during ${rsp.flavour.name} GP ${cb.gpnumAtQueue} invoked when only GP ${rsp.completed} had completed (needs GP ${need})`);
      return;
    }
    const s = this.snaps[cb.flavour]!;
    if (s.lastFullGp < need) {
      this.once("rcu-callbacks-invoked", `bogus:${cb.flavour}:${rsp.completed}`, cb.cpu, () => `callback ${cb.id} from CPU ${cb.cpu} invoked after no full grace period: ${s.lastBogus}`);
    }
  }

  /** Bound after which an EQS CPU must have been reported: first + next FQS interval, 2 jiffies and a CFS latency of kthread delay. */
  private eqsBoundNs(): number {
    const k = this.k;
    return (2 * this.rcu.fqsJiffies() + 2) * k.tickPeriod + k.sched.latencyNs;
  }

  /**
   * Bound after which a kernel-looping nohz_full holdout must have been forced. 4.9: FQS resched_cpu()s
   * it from jiffies_till_sched_qs. 6.1 path (params.tickDepRcu): rcu_implicit_dynticks_qs() only sets
   * rcu_urgent_qs there (the CPU sets TICK_DEP_BIT_RCU at its next interrupt, and a tickless kernel
   * loop may take none), and resched_cpu()s it once `last_fqs_resched + 3 × jiffies_to_sched_qs` has
   * passed: the forcing is guaranteed only by 3 × jiffies_to_sched_qs.
   */
  private forceBoundNs(): number {
    const k = this.k;
    const jtsq = this.rcu.jiffiesTillSchedQs() * (k.params.tickDepRcu ? 3 : 1);
    return (jtsq + this.rcu.fqsJiffies() + 2) * k.tickPeriod + k.sched.latencyNs;
  }

  /**
   * Sampled at each tick of the GP kthread's CPU while grace periods run. An EQS CPU counts from the
   * later of the grace period's start and its last RCU-watching counter change (Cpu.ctCounterSince,
   * the exact transition time, not the first sample that saw it). Both per-CPU checks need the grace
   * period to be older than their bound (an EQS CPU's start is at least the grace period's), so a
   * younger grace period is not scanned.
   */
  private sample(): void {
    const states = this.rcu.states;
    let any = false;
    for (let f = 0; f < states.length; f++) if (states[f]!.gpnum !== states[f]!.completed) any = true;
    if (!any) return;
    const k = this.k;
    const now = k.engine.now;
    const stall = k.params.rcuCpuStallTimeoutNs;
    const eqsBound = this.eqsBoundNs();
    const forceBound = this.forceBoundNs();
    const scanAfter = Math.min(eqsBound, forceBound);
    for (let f = 0; f < states.length; f++) {
      const rsp = states[f]!;
      if (rsp.gpnum === rsp.completed) continue;
      const name = rsp.flavour.name;
      const age = now - rsp.gpStartNs;
      k.invariants.evaluate("rcu-gp-progress");
      if (age > stall) {
        this.once("rcu-gp-progress", `stall:${name}:${rsp.gpnum}`, -1, () => `${name} grace period ${rsp.gpnum} has run ${age} ns (stall timeout ${stall} ns), ${rsp.qsLeft} CPUs still owe a quiescent state`);
      }
      if (age > scanAfter) this.scanHoldouts(rsp, now, age, eqsBound, forceBound);
    }
  }

  /** The per-CPU part of {@link sample} for one flavour's grace period: its EQS and kernel-looping holdouts. */
  private scanHoldouts(rsp: RcuState, now: number, age: number, eqsBound: number, forceBound: number): void {
    const k = this.k;
    const cpus = k.cpus;
    const name = rsp.flavour.name;
    const gpStartNs = rsp.gpStartNs;
    const counter = this.snaps[rsp.flavour.index]!.counter;
    const qsmask = rsp.qsmask, nohzFull = this.nohzFull;
    const jtsqNs = this.rcu.jiffiesTillSchedQs() * k.tickPeriod;
    for (let i = 0; i < cpus.length; i++) {
      if (!qsmask[i]) continue;
      const c = cpus[i]!;
      const w = c.ctWord;
      const st = w & CT_STATE_MASK;
      if (st === CtState.idle || (st === CtState.user && nohzFull[i] === 1)) {
        k.invariants.evaluate("rcu-gp-progress");
        const since = Math.max(c.ctCounterSince, gpStartNs);
        if (now - since > eqsBound) {
          this.once("rcu-gp-progress", `eqs:${name}:${rsp.gpnum}:${i}`, i, () => `${name} grace period ${rsp.gpnum} still waits on CPU ${i}, in ${st === CtState.idle ? "idle" : "user"} (EQS) for ${now - since} ns`);
        }
        continue;
      }
      if (nohzFull[i] !== 1 || st !== CtState.kernel) continue;
      // A nohz_full CPU in the kernel that the grace period waits on: forced yet, or still in time?
      k.invariants.evaluate("rcu-forced-tick");
      if (w - (w & CT_LOW_BITS) !== counter[i] || age <= forceBound) continue;
      const forcedBySwitch = this.lastCsAt[i]! >= gpStartNs + jtsqNs;
      const forcedTick = k.params.tickDepRcu && (k.tick.ts[i]!.depMask & (1 << TickDep.RCU)) !== 0;
      if (!forcedBySwitch && !forcedTick) {
        this.once("rcu-forced-tick", `force:${name}:${rsp.gpnum}:${i}`, i, () => `${name} grace period ${rsp.gpnum} has waited ${age} ns on nohz_full CPU ${i} looping in the kernel, which was neither rescheduled nor given ${k.params.tickDepRcu ? "TICK_DEP_BIT_RCU" : "a resched IPI"}`);
      }
    }
  }

  /**
   * At the end: deadlines that passed are checked once more, then every callback queued more than the
   * bound before the end must have run; the total of lost callbacks closes the list when it was cut.
   */
  private atEnd(): void {
    this.checkDeadlines();
    const now = this.k.engine.now;
    const bound = this.k.params.rcuCallbackInvokeBoundNs;
    const lazyBound = bound + this.lazyAllowanceNs();
    for (const cb of [...this.waiting.values()]) {
      if (now - cb.queuedAt > (cb.lazy ? lazyBound : bound)) this.declareLost(cb, `by the end of the run, ${now - cb.queuedAt} ns after call_rcu()`);
    }
    if (this.lostTotal > MAX_LOST_LISTED) {
      this.k.invariants.violate("rcu-callbacks-invoked", -1, `${this.lostTotal} callbacks in total were not invoked in time (the first ${MAX_LOST_LISTED} are listed)`);
    }
  }
}
