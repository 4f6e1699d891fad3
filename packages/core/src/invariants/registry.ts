import type { Nanoseconds } from "../engine/engine.js";
import type { Kernel } from "../kernel.js";
import { Policy } from "../sched/task.js";

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

  constructor(private readonly k: Kernel) {
    this.checked.add("tick-deps");
    this.checked.add("clockevent-stopped");
  }

  /** Declares that `id` is evaluated in this run. */
  check(id: InvariantId): void {
    this.checked.add(id);
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
   * tick-deps: a busy nohz_full CPU whose tick is stopped must have no dependency bit set and pass
   * sched_can_stop_tick(), read from the runqueue independently of the tick's own decision.
   */
  checkTickDeps(cpu: number): void {
    const k = this.k;
    const ts = k.tick.ts[cpu]!;
    if (!ts.stopped || ts.inIdle) return;
    const deps = k.tick.globalDep | ts.depMask;
    const rq = k.sched.rqs[cpu]!.tasks;
    const rr = rq.filter((t) => t.policy === Policy.rr).length;
    const fifo = rq.filter((t) => t.policy === Policy.fifo).length;
    const schedNeeds = rr > 1 || (rr === 0 && fifo === 0 && rq.length > 1);
    if (deps !== 0 || schedNeeds) {
      this.violate("tick-deps", cpu, `tick stopped with ${deps !== 0 ? `dependency mask 0x${deps.toString(16)}` : `${rq.length} runnable tasks (SCHED)`}`);
    }
  }

  /** clockevent-stopped: a timer interrupt with no tick due is legal only after an indefinite stop on a device without ONESHOT_STOPPED. */
  spuriousTimer(cpu: number, afterIndefiniteStop: boolean): void {
    const dev = this.k.clockevents.devices[cpu]!;
    if (dev.supportsOneshotStopped && afterIndefiniteStop) {
      this.violate("clockevent-stopped", cpu, "timer interrupt after an indefinite stop although the device supports ONESHOT_STOPPED");
    } else if (!afterIndefiniteStop) {
      this.violate("clockevent-stopped", cpu, "timer interrupt with no tick due and no indefinite stop");
    }
  }

  /** Called at each tick: a tick on a CPU whose tick is stopped indefinitely is a violation. */
  tickRan(cpu: number): void {
    const ts = this.k.tick.ts[cpu]!;
    if (ts.stopped && ts.indefinite) this.violate("tick-deps", cpu, "tick ran while stopped indefinitely");
  }
}
