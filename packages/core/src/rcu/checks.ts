/**
 * RCU invariant checker. It observes CPUs through its own hooks (ticks, context switches, the
 * context-tracking word) rather than trusting the subsystem's bookkeeping:
 * - `rcu-gp-progress`: grace periods keep completing (none older than the stall timeout) and none
 *   waits on a CPU that stays in user/idle (EQS) longer than two FQS intervals;
 * - `rcu-callbacks-invoked`: every callback runs exactly once, after a grace period that started
 *   after its call_rcu() ended and during which every CPU was seen passing a quiescent state;
 * - `rcu-forced-tick`: a nohz_full CPU looping in the kernel that holds up a grace period is forced
 *   (4.9: resched_cpu() makes it context-switch; 6.1: TICK_DEP_BIT_RCU) by jiffies_till_sched_qs plus
 *   one FQS interval.
 */
import type { Kernel } from "../kernel.js";
import { Context, CtState, CT_RCU_WATCHING, CT_STATE_MASK } from "../machine/cpu.js";
import { TickDep } from "../time/tick-sched.js";
import type { Rcu, RcuCallback, RcuState } from "./tree.js";
import { dynticksCounter, rcuInEqs } from "./tree.js";

/** Bits of a context-tracking word below its RCU-watching counter (state and deferred work). */
const CT_LOW_BITS = CT_RCU_WATCHING - 1;

/** Per-flavour snapshot of every CPU at the start of its current grace period. */
interface GpSnapshot {
  readonly eqs: Uint8Array;
  readonly counter: Float64Array;
  readonly cs: Float64Array;
  readonly ticks: Float64Array;
  readonly ticksUserIdle: Float64Array;
  /** Highest completed grace period during which every CPU was seen quiescent. */
  lastFullGp: number;
  /** Why the last grace period that was not full was not (violation detail). */
  lastBogus: string;
}

/** Live checks of the RCU invariants (rcu-gp-progress, rcu-callbacks-invoked, rcu-forced-tick). */
export class RcuChecker {
  private readonly waiting = new Map<number, RcuCallback>();
  private readonly cs: Float64Array;
  private readonly lastCsAt: Float64Array;
  private readonly ticks: Float64Array;
  private readonly ticksUserIdle: Float64Array;
  /** Per CPU, its RCU-watching counter (times CT_RCU_WATCHING) at the last sample that saw it change. */
  private readonly seenCounter: Float64Array;
  private readonly seenSince: Float64Array;
  private readonly snaps: GpSnapshot[];
  private readonly reported = new Set<string>();

  constructor(
    private readonly k: Kernel,
    private readonly rcu: Rcu,
  ) {
    const n = k.nrCpus;
    this.cs = new Float64Array(n);
    this.lastCsAt = new Float64Array(n).fill(-1);
    this.ticks = new Float64Array(n);
    this.ticksUserIdle = new Float64Array(n);
    this.seenCounter = new Float64Array(n).fill(-1);
    this.seenSince = new Float64Array(n);
    this.snaps = rcu.flavours.map(() => ({
      eqs: new Uint8Array(n),
      counter: new Float64Array(n),
      cs: new Float64Array(n),
      ticks: new Float64Array(n),
      ticksUserIdle: new Float64Array(n),
      lastFullGp: 0,
      lastBogus: "",
    }));
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
      if (cpu === rcu.gpCpu) this.sample();
    });
    k.invariants.atEnd.push(() => this.atEnd());
  }

  private once(id: "rcu-gp-progress" | "rcu-callbacks-invoked" | "rcu-forced-tick", key: string, cpu: number, detail: () => string): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.k.invariants.violate(id, cpu, detail());
  }

  /** A grace period started: snapshot every CPU. */
  gpStarted(rsp: RcuState): void {
    const s = this.snaps[rsp.flavour.index]!;
    for (const c of this.k.cpus) {
      s.eqs[c.id] = rcuInEqs(c) ? 1 : 0;
      s.counter[c.id] = dynticksCounter(c);
      s.cs[c.id] = this.cs[c.id]!;
      s.ticks[c.id] = this.ticks[c.id]!;
      s.ticksUserIdle[c.id] = this.ticksUserIdle[c.id]!;
    }
  }

  /** A grace period ended: it is full only if every CPU was seen passing a quiescent state of this flavour. */
  gpEnded(rsp: RcuState): void {
    const s = this.snaps[rsp.flavour.index]!;
    const name = rsp.flavour.name;
    for (const c of this.k.cpus) {
      const i = c.id;
      const qs =
        s.eqs[i] === 1 ||
        rcuInEqs(c) ||
        dynticksCounter(c) - s.counter[i]! >= 2 ||
        this.ticksUserIdle[i]! > s.ticksUserIdle[i]! ||
        (name !== "rcu_bh" && this.cs[i]! > s.cs[i]!) ||
        (name !== "rcu_sched" && this.ticks[i]! > s.ticks[i]!);
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
  }

  /** `cb` is being invoked: exactly once, after a full grace period that started after it was queued. */
  invoked(cb: RcuCallback): void {
    const rsp = this.rcu.states[cb.flavour]!;
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

  /** Bound after which a kernel-looping nohz_full holdout must have been forced. */
  private forceBoundNs(): number {
    const k = this.k;
    return (this.rcu.jiffiesTillSchedQs() + this.rcu.fqsJiffies() + 2) * k.tickPeriod + k.sched.latencyNs;
  }

  /** Sampled at each tick of the GP kthread's CPU while grace periods run. */
  private sample(): void {
    const k = this.k;
    const now = k.engine.now;
    let any = false;
    for (const rsp of this.rcu.states) if (this.rcu.gpInProgress(rsp)) any = true;
    if (!any) return;
    // The counter part of each context-tracking word (the word less its low state and work bits):
    // it changes exactly when dynticksCounter() does, without a division per CPU.
    const cpus = k.cpus, seenCounter = this.seenCounter, seenSince = this.seenSince;
    for (let i = 0; i < cpus.length; i++) {
      const w = cpus[i]!.ctWord;
      const ctr = w - (w & CT_LOW_BITS);
      if (ctr !== seenCounter[i]) {
        seenCounter[i] = ctr;
        seenSince[i] = now;
      }
    }
    const stall = k.params.rcuCpuStallTimeoutNs;
    const eqsBound = this.eqsBoundNs();
    const forceBound = this.forceBoundNs();
    const jtsqNs = this.rcu.jiffiesTillSchedQs() * k.tickPeriod;
    for (const rsp of this.rcu.states) {
      if (!this.rcu.gpInProgress(rsp)) continue;
      const name = rsp.flavour.name;
      const age = now - rsp.gpStartNs;
      if (age > stall) {
        this.once("rcu-gp-progress", `stall:${name}:${rsp.gpnum}`, -1, () => `${name} grace period ${rsp.gpnum} has run ${age} ns (stall timeout ${stall} ns), ${rsp.qsLeft} CPUs still owe a quiescent state`);
      }
      const s = this.snaps[rsp.flavour.index]!;
      const qsmask = rsp.qsmask;
      for (let i = 0; i < cpus.length; i++) {
        if (!qsmask[i]) continue;
        const c = cpus[i]!;
        if (rcuInEqs(c)) {
          const since = Math.max(this.seenSince[i]!, rsp.gpStartNs);
          if (now - since > eqsBound) {
            this.once("rcu-gp-progress", `eqs:${name}:${rsp.gpnum}:${i}`, i, () => `${name} grace period ${rsp.gpnum} still waits on CPU ${i}, in ${(c.ctWord & CT_STATE_MASK) === CtState.idle ? "idle" : "user"} (EQS) for ${now - since} ns`);
          }
          continue;
        }
        if (!c.nohzFull || (c.ctWord & CT_STATE_MASK) !== CtState.kernel) continue;
        if (dynticksCounter(c) !== s.counter[i] || age <= forceBound) continue;
        const forcedBySwitch = this.lastCsAt[i]! >= rsp.gpStartNs + jtsqNs;
        const forcedTick = k.params.tickDepRcu && (k.tick.ts[i]!.depMask & (1 << TickDep.RCU)) !== 0;
        if (!forcedBySwitch && !forcedTick) {
          this.once("rcu-forced-tick", `force:${name}:${rsp.gpnum}:${i}`, i, () => `${name} grace period ${rsp.gpnum} has waited ${age} ns on nohz_full CPU ${i} looping in the kernel, which was neither rescheduled nor given ${k.params.tickDepRcu ? "TICK_DEP_BIT_RCU" : "a resched IPI"}`);
        }
      }
    }
  }

  /** At the end: a callback older than the stall timeout that never ran is a violation. */
  private atEnd(): void {
    const now = this.k.engine.now;
    const stall = this.k.params.rcuCpuStallTimeoutNs;
    for (const cb of this.waiting.values()) {
      if (now - cb.queuedAt > stall) {
        this.once("rcu-callbacks-invoked", `never:${cb.id}`, cb.cpu, () => `callback ${cb.id} queued on CPU ${cb.cpu} at ${cb.queuedAt} ns was never invoked`);
        return;
      }
    }
  }
}
