import type { Nanoseconds } from "../engine/engine.js";
import { ClockEventState } from "../time/clockevents.js";
import type { ClockEventStateId } from "../time/clockevents.js";
import type { Kernel } from "../kernel.js";
import { Policy } from "../sched/task.js";
import { tickKeptByKeys } from "../accounting/sources.js";
import { TickDep } from "../time/tick-sched.js";

/** The kernel's names of the clock event states (enum clock_event_state), for violation details. */
const CLOCK_EVT_STATE_NAMES: Readonly<Record<ClockEventStateId, string>> = { 0: "SHUTDOWN", 1: "PERIODIC", 2: "ONESHOT", 3: "ONESHOT_STOPPED" };

/** Invariant IDs of the report contract (shared/contract.md; kernel-model.md §10). */
export const invariantIds = [
  "rcu-gp-progress",
  "rcu-callbacks-invoked",
  "rcu-forced-tick",
  "tick-deps",
  "clockevent-stopped",
  "remote-tick-staleness",
  "lru-conservation",
  "lru-drain-complete",
  "lru-exclusive",
  "vmstat-exact",
  "vmstat-threshold",
  "tlb-no-stale",
  "tlb-defer-only-user",
  "workqueue-progress",
] as const;

/** One invariant ID. */
export type InvariantId = (typeof invariantIds)[number];

/** The index of each invariant ID in {@link invariantIds} (the slot of {@link InvariantRegistry.evaluations}). */
export const invariantIndex: Readonly<Record<InvariantId, number>> = Object.freeze(
  Object.fromEntries(invariantIds.map((id, i) => [id, i])) as Record<InvariantId, number>,
);

/** A violated invariant, as the report lists it. */
export interface Violation {
  /** Which invariant. */
  invariant: InvariantId;
  /** When, ns. */
  timeNs: Nanoseconds;
  /** On which CPU (-1 when machine-wide). */
  cpu: number;
  /** What happened, in kernel terms. */
  detail: string;
}

/** Most violations kept per invariant (the count goes on). */
const MAX_KEPT = 20;

/** Live invariant checking: subsystems register what they check and report violations as they happen. */
export class InvariantRegistry {
  /** IDs evaluated in this run. */
  readonly checked = new Set<InvariantId>();
  /** Violations found (at most 20 per invariant are kept, MAX_KEPT). */
  readonly violations: Violation[] = [];
  /** Violations per invariant, including those not kept. */
  readonly counts = new Map<InvariantId, number>();
  /** Checks to run when the simulation ends. */
  readonly atEnd: (() => void)[] = [];
  /** Evaluations per invariant, indexed as {@link invariantIds}: each time a checker tested its condition (what `isolsim torture` totals). */
  readonly evaluations = new Float64Array(invariantIds.length);

  /** Per CPU, since when its stopped tick owes a restart (tick-deps), or -1. */
  private readonly owedSince: Float64Array;
  /** The CPUs with an owed restart, first {@link nOwed} entries. */
  private readonly owed: Int32Array;
  private nOwed = 0;
  /** Per CPU, the deadline a device without ONESHOT_STOPPED must still fire at after an indefinite stop (clockevent-stopped), or -1. */
  private readonly staleAt: Float64Array;
  /** The CPUs with such a deadline, first {@link nStale} entries. */
  private readonly stale: Int32Array;
  /** Per CPU, its index in {@link stale}, or -1. */
  private readonly stalePos: Int32Array;
  private nStale = 0;

  constructor(private readonly k: Kernel) {
    this.checked.add("tick-deps");
    this.checked.add("clockevent-stopped");
    this.owedSince = new Float64Array(k.nrCpus).fill(-1);
    this.owed = new Int32Array(k.nrCpus);
    this.staleAt = new Float64Array(k.nrCpus).fill(-1);
    this.stale = new Int32Array(k.nrCpus);
    this.stalePos = new Int32Array(k.nrCpus).fill(-1);
    k.hooks.schedWakeup.push((task) => this.tickDepMayBeOwed(task.cpu));
  }

  /** Declares that `id` is evaluated in this run. */
  check(id: InvariantId): void {
    this.checked.add(id);
  }

  /** Counts one evaluation of `id`: its checker just tested the condition (held or not). */
  evaluate(id: InvariantId): void {
    this.evaluations[invariantIndex[id]]!++;
  }

  /** Evaluations of `id` so far. */
  evaluationsOf(id: InvariantId): number {
    return this.evaluations[invariantIndex[id]]!;
  }

  /** Records a violation of `id`. */
  violate(id: InvariantId, cpu: number, detail: string): void {
    const n = (this.counts.get(id) ?? 0) + 1;
    this.counts.set(id, n);
    const now = this.k.engine.now;
    if (n <= MAX_KEPT) this.violations.push({ invariant: id, timeNs: now, cpu, detail });
    this.k.trace?.instant(cpu < 0 ? 0 : cpu, `invariant violated: ${id}: ${detail}`, now);
  }

  /**
   * What a busy nohz_full CPU's stopped tick would violate now, read from the dependency masks at
   * the 4 levels and the runqueue, independently of the tick's own decision (check_tick_dependency(),
   * sched_can_stop_tick() of 4.9 kernel/time/tick-sched.c and kernel/sched/core.c): the set bits, or
   * the SCHED bit alone when the runqueue needs the tick without it, or 0 when the stop is legal.
   */
  tickDepsUnmet(cpu: number): number {
    const k = this.k;
    const ts = k.tick.ts[cpu]!;
    if (!ts.stopped || ts.inIdle || !k.cpus[cpu]!.nohzFull) return 0;
    let deps = k.tick.globalDep | ts.depMask;
    const curr = k.cpus[cpu]!.curr;
    if (curr !== null && k.tick.taskDep.size > 0) deps |= k.tick.taskDep.get(curr) ?? 0;
    if (deps !== 0) return deps;
    const rq = k.sched.rqs[cpu]!.tasks;
    let rr = 0, fifo = 0;
    for (let i = 0; i < rq.length; i++) {
      const policy = rq[i]!.policy;
      if (policy === Policy.rr) rr++;
      else if (policy === Policy.fifo) fifo++;
    }
    const schedNeeds = rr > 1 || (rr === 0 && fifo === 0 && rq.length > 1);
    return schedNeeds ? 1 << TickDep.SCHED : 0;
  }

  /**
   * tick-deps, at a point where the tick's state must be settled (the tick was just stopped, or an
   * interrupt exit on the CPU just ran tick_nohz_irq_exit()): a busy nohz_full CPU whose tick is
   * stopped must have no dependency bit set and pass sched_can_stop_tick().
   */
  checkTickDeps(cpu: number): void {
    this.evaluate("tick-deps");
    const unmet = this.tickDepsUnmet(cpu);
    if (unmet !== 0) this.violate("tick-deps", cpu, this.tickDepsDetail(cpu, unmet, "stopped"));
  }

  /**
   * tick-deps, where the tick may lag for a moment: a task was enqueued on `cpu` or a dependency bit
   * was set. If the CPU's stopped tick now owes a restart, the kick (tick_nohz_full_kick_cpu(), an
   * irq_work IPI) must restart it within {@link tickKickBoundNs}; the timekeeper's tick checks.
   */
  tickDepMayBeOwed(cpu: number): void {
    if (this.owedSince[cpu]! >= 0 || this.tickDepsUnmet(cpu) === 0) return;
    this.owedSince[cpu] = this.k.engine.now;
    this.owed[this.nOwed++] = cpu;
  }

  /** The longest a stopped tick may lag a dependency: one jiffy, far above IPI latency plus handler. */
  tickKickBoundNs(): number {
    return this.k.tickPeriod;
  }

  /** At the timekeeper's tick: every CPU that owed a restart for longer than the bound and still does is a violation. */
  private checkOwedTicks(): void {
    const now = this.k.engine.now;
    const bound = this.tickKickBoundNs();
    let keep = 0;
    for (let i = 0; i < this.nOwed; i++) {
      const cpu = this.owed[i]!;
      this.evaluate("tick-deps");
      const unmet = this.tickDepsUnmet(cpu);
      const since = this.owedSince[cpu]!;
      if (unmet !== 0 && now - since <= bound) {
        this.owed[keep++] = cpu;
        continue;
      }
      this.owedSince[cpu] = -1;
      if (unmet !== 0) this.violate("tick-deps", cpu, this.tickDepsDetail(cpu, unmet, `still stopped ${now - since} ns after it became needed (bound ${bound} ns)`));
    }
    this.nOwed = keep;
  }

  /** The detail of a tick-deps violation: the unmet dependencies by name and the runqueue's length. */
  private tickDepsDetail(cpu: number, unmet: number, what: string): string {
    const n = this.k.sched.rqs[cpu]!.tasks.length;
    const bits = tickKeptByKeys.filter((_, b) => b < 6 && unmet & (1 << b)).join("|");
    return `tick ${what} on busy nohz_full CPU ${cpu} with dependency ${bits} (mask 0x${unmet.toString(16)}, ${n} runnable task${n === 1 ? "" : "s"})`;
  }

  /** clockevent-stopped: a timer interrupt with no tick due is legal only after an indefinite stop on a device without ONESHOT_STOPPED. */
  spuriousTimer(cpu: number, afterIndefiniteStop: boolean): void {
    this.evaluate("clockevent-stopped");
    this.forgetStaleDeadline(cpu);
    const dev = this.k.clockevents.devices[cpu]!;
    if (dev.supportsOneshotStopped && afterIndefiniteStop) {
      this.violate("clockevent-stopped", cpu, "timer interrupt after an indefinite stop although the device supports ONESHOT_STOPPED");
    } else if (!afterIndefiniteStop) {
      this.violate("clockevent-stopped", cpu, "timer interrupt with no tick due and no indefinite stop");
    }
  }

  /**
   * clockevent-stopped, the other direction: the tick of `cpu` is about to stop indefinitely
   * (tick_program_event(KTIME_MAX)). Read before the device is touched: a device without
   * ONESHOT_STOPPED keeps its armed deadline (-ENOSYS in __clockevents_switch_state()), so its
   * interrupt must arrive at that deadline unless the device is reprogrammed first.
   */
  indefiniteStop(cpu: number): void {
    const dev = this.k.clockevents.devices[cpu]!;
    if (dev.supportsOneshotStopped || dev.nextEvent === Infinity) return;
    if (this.stalePos[cpu]! < 0) {
      this.stalePos[cpu] = this.nStale;
      this.stale[this.nStale++] = cpu;
    }
    this.staleAt[cpu] = dev.nextEvent;
  }

  /**
   * The clock event device of `cpu`, in `state`, was programmed for `expires`
   * (clockevents_program_event()): no stale deadline is owed any more, and the device must be in
   * ONESHOT (or SHUTDOWN, which the kernel skips), as its WARN_ONCE there says: one left in
   * ONESHOT_STOPPED fires nothing, so the restarted tick never interrupts.
   */
  clockeventProgrammed(cpu: number, expires: Nanoseconds, state: ClockEventStateId): void {
    this.forgetStaleDeadline(cpu);
    this.evaluate("clockevent-stopped");
    if (state !== ClockEventState.oneshot && state !== ClockEventState.shutdown) {
      this.violate("clockevent-stopped", cpu, `device programmed for ${expires} ns in state ${CLOCK_EVT_STATE_NAMES[state]}, not ONESHOT: no timer interrupt will come (tick_program_event() must switch a ONESHOT_STOPPED device back first)`);
    }
  }

  /** Drops `cpu`'s stale deadline, if any (the last entry of the list takes its place). */
  private forgetStaleDeadline(cpu: number): void {
    const i = this.stalePos[cpu]!;
    if (i < 0) return;
    this.staleAt[cpu] = -1;
    this.stalePos[cpu] = -1;
    const last = this.stale[--this.nStale]!;
    if (last !== cpu) {
      this.stale[i] = last;
      this.stalePos[last] = i;
    }
  }

  /** At the timekeeper's tick: a stale deadline that passed with no interrupt (and no reprogramming) is a violation. */
  private checkStaleDeadlines(): void {
    const now = this.k.engine.now;
    for (let i = 0; i < this.nStale; ) {
      const cpu = this.stale[i]!;
      this.evaluate("clockevent-stopped");
      const at = this.staleAt[cpu]!;
      if (at >= now) {
        i++;
        continue;
      }
      this.forgetStaleDeadline(cpu);
      this.violate("clockevent-stopped", cpu, `device without ONESHOT_STOPPED stopped indefinitely with a deadline armed at ${at} ns; no timer interrupt arrived by ${now} ns and it was not reprogrammed`);
    }
  }

  /** Called at each tick: a tick on a CPU whose tick is stopped indefinitely is a violation; the timekeeper's tick checks owed restarts and stale deadlines. */
  tickRan(cpu: number): void {
    const ts = this.k.tick.ts[cpu]!;
    this.evaluate("tick-deps");
    if (ts.stopped && ts.indefinite) this.violate("tick-deps", cpu, "tick ran while stopped indefinitely");
    if (cpu !== this.k.tick.timekeeper) return;
    if (this.nOwed > 0) this.checkOwedTicks();
    if (this.nStale > 0) this.checkStaleDeadlines();
  }
}
