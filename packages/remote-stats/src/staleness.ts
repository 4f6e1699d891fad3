import { EventPriority } from "@isolsim/core";
import type { Kernel, Nanoseconds, Task } from "@isolsim/core";
import type { CalcLoad } from "./loadavg.js";

/** What the checker needs to know about the remote tick of one CPU. */
export interface RemoteTickView {
  /** Whether the CPU is offline for the scheduler (cpu_is_offline()): no remote tick is owed. */
  offline(cpu: number): boolean;
  /** When the CPU last came online (0 at boot): it boots with its tick running, so nothing is staler. */
  onlineSince(cpu: number): Nanoseconds;
  /** How long the remote tick of `cpu` has been due: since its timer expired, until the kworker starts it, ns (0 when not due). */
  delay(cpu: number): Nanoseconds;
}

/** Staleness figures of one check, ns. */
export interface Staleness {
  /** Runtime of the running task not yet accounted (ground truth − sum_exec_runtime). */
  runtimeNs: Nanoseconds;
  /** Time since the runqueue's load was last folded (tick stopped, busy CPU), else 0. */
  loadNs: Nanoseconds;
}

/**
 * Invariant `remote-tick-staleness` (kernel-model.md §10.2): on a busy nohz_full CPU the running
 * task's runtime (update_curr() → sum_exec_runtime) and the load average (calc_load_fold_active())
 * are never staler than the remote period (HZ jiffies) plus the housekeeping delay. The runtime is
 * compared with ground truth the checker measures itself: the time each task was current, read at
 * every __schedule(). Each isolated CPU is checked at the instant its staleness would pass the bound.
 */
export class StalenessChecker {
  /** Largest staleness seen in the measured window (checks and remote runs), ns. */
  maxNs = 0;
  /** Largest load staleness seen in the measured window, ns. */
  maxLoadNs = 0;
  private readonly truth = new Map<Task, Nanoseconds>();
  private readonly since: Float64Array;
  private readonly violated: Uint8Array;
  private readonly kCheck: number;
  private readonly slackNs: Nanoseconds;

  constructor(
    private readonly k: Kernel,
    private readonly load: CalcLoad,
    private readonly view: RemoteTickView,
    /** The remote period (HZ jiffies), ns. */
    private readonly periodNs: Nanoseconds,
  ) {
    this.since = new Float64Array(k.nrCpus);
    this.violated = new Uint8Array(k.nrCpus);
    // Tick granularity: a CPU's own tick refreshes its accounting once a jiffy, so a run that found
    // the tick running may follow its last refresh by up to a jiffy.
    this.slackNs = 2 * k.tickPeriod + k.params.remoteTickNs;
    this.kCheck = k.engine.register("remote_tick_staleness_check", (cpu) => this.check(cpu));
    k.invariants.check("remote-tick-staleness");
    k.hooks.contextSwitch.push((cpu) => this.switched(cpu));
    k.hooks.boot.push(() => k.nohzFull.forEach((cpu) => this.arm(cpu, this.bound(cpu))));
    k.hooks.finish.push(() => k.nohzFull.forEach((cpu) => this.check(cpu, false)));
  }

  /** __schedule() on `cpu`: the task leaving (or staying) has been current since the last switch. */
  private switched(cpu: number): void {
    const now = this.k.engine.now;
    const curr = this.k.cpus[cpu]!.curr;
    if (curr) this.truth.set(curr, (this.truth.get(curr) ?? 0) + now - this.since[cpu]!);
    this.since[cpu] = now;
  }

  /** Staleness of `cpu` now; zero when no remote tick is owed (idle, running tick, offline). */
  measure(cpu: number): Staleness {
    const k = this.k;
    const c = k.cpus[cpu]!;
    const curr = c.curr;
    if (!c.nohzFull || !curr || this.view.offline(cpu)) return { runtimeNs: 0, loadNs: 0 };
    const now = k.engine.now;
    const ran = (this.truth.get(curr) ?? 0) + now - this.since[cpu]!;
    const ts = k.tick.ts[cpu]!;
    const up = now - this.view.onlineSince(cpu);
    const loadNs = ts.stopped && !ts.inIdle ? Math.min(up, this.load.age(cpu, now)) : 0;
    return { runtimeNs: Math.min(up, ran - curr.sumExec), loadNs };
  }

  /** The bound at this instant: remote period + 2 jiffies + the run's cost + how long the remote tick has been due so far. */
  bound(cpu: number): Nanoseconds {
    return this.periodNs + this.slackNs + this.view.delay(cpu);
  }

  /** Records a sample taken by the remote tick just before it refreshes `cpu`; returns it. */
  sample(cpu: number): Staleness {
    const s = this.measure(cpu);
    this.note(s);
    return s;
  }

  private note(s: Staleness): void {
    if (!this.k.measuring()) return;
    const worst = Math.max(s.runtimeNs, s.loadNs);
    if (worst > this.maxNs) this.maxNs = worst;
    if (s.loadNs > this.maxLoadNs) this.maxLoadNs = s.loadNs;
  }

  private arm(cpu: number, after: Nanoseconds): void {
    this.k.engine.schedule(this.k.engine.now + Math.max(this.k.tickPeriod, after), this.kCheck, cpu, 0, EventPriority.late);
  }

  /** Checks `cpu` against the bound and re-arms at the instant it could next be passed. */
  private check(cpu: number, rearm = true): void {
    const s = this.measure(cpu);
    this.note(s);
    const worst = Math.max(s.runtimeNs, s.loadNs);
    const b = this.bound(cpu);
    this.k.invariants.evaluate("remote-tick-staleness");
    if (worst > b) {
      if (!this.violated[cpu]) {
        const what = s.runtimeNs >= s.loadNs ? `runtime of ${this.k.cpus[cpu]!.curr!.name} unaccounted for` : "load average not folded for";
        this.k.invariants.violate("remote-tick-staleness", cpu, `${what} ${worst} ns (bound ${b} ns: remote period + housekeeping delay)`);
        this.violated[cpu] = 1;
      }
      if (rearm) this.arm(cpu, b);
      return;
    }
    this.violated[cpu] = 0;
    if (rearm) this.arm(cpu, b - worst + 1);
  }
}
