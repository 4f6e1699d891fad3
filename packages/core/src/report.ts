import type { Kernel } from "./kernel.js";
import type { ScenarioSpec } from "./scenario.js";
import { interruptionKeys, tickKeptByKeys } from "./accounting/sources.js";
import type { InterruptionKey, TickKeptBy } from "./accounting/sources.js";
import type { InvariantId } from "./invariants/registry.js";

/** One CPU of the report (contract: `cpus[]`). */
export interface CpuReport {
  /** CPU number. */
  cpu: number;
  /** In nohz_full. */
  isolated: boolean;
  /** Time taken from the user task, ns. */
  noise_ns: number;
  /** Longest single noise interval, ns. */
  max_single_noise_ns: number;
  /** 100 × (measured − noise) / measured. */
  available_pct: number;
  /** Interruptions by source. */
  interruptions: Record<InterruptionKey, number>;
  /** Tick figures. */
  tick: {
    /** Share of the measured window the tick was stopped, %. */
    stopped_pct: number;
    /** Tick stops (ts->tick_stopped 0 → 1). */
    stops: number;
    /** Tick restarts after a stop. */
    restarts: number;
    /** Ticks by the reason the tick could not stop. */
    kept_by: Record<TickKeptBy, number>;
  };
}

/** The report of a run (contract: `isolsim run --json`). */
export interface Report {
  /** Scenario name. */
  scenario: string;
  /** Seed. */
  seed: number;
  /** The effective machine. */
  kernel: {
    /** Preset name. */
    preset: string;
    /** Number of CPUs. */
    cpus: number;
    /** CONFIG_HZ in force. */
    hz: number;
    /** nohz_full cpu list ("" when none). */
    nohz_full: string;
    /** Mechanisms after composition, in order. */
    mechanisms: {
      /** Mechanism name. */
      name: string;
      /** Variant, when the mechanism has variants. */
      variant?: string;
    }[];
  };
  /** Simulated time, ns. */
  simulated_ns: number;
  /** Measured window, ns. */
  measured_ns: number;
  /** Events processed. */
  events: number;
  /** Every CPU in order. */
  cpus: CpuReport[];
  /** Housekeeping work for isolated CPUs. */
  housekeeping: {
    /** sched_tick_remote() runs. */
    remote_ticks: number;
    /** lru_add_drain_all() calls. */
    lru_drains: number;
    /** flush_tlb_kernel_range() calls. */
    tlb_flushes: number;
    /** Time housekeeping CPUs spent on work for isolated CPUs, ns. */
    noise_ns: number;
  };
  /** Kernel threads at the end of the run, by role. */
  kthreads: {
    /** RCU callback kthreads (rcuo*). */
    rcu_callback: number;
    /** RCU grace-period kthreads (rcuog). */
    rcu_gp: number;
    /** kworkers. */
    kworker: number;
    /** Every other kernel thread (workload kthreads such as `wakeup/N`, workqueue rescuers, ...): total minus the roles above. */
    other: number;
    /** All kernel threads. */
    total: number;
  };
  /** Per-mechanism figures. */
  mechanism_stats: Record<string, Record<string, unknown>>;
  /** Invariants evaluated and violated. */
  invariants: {
    /** Invariants evaluated in the run. */
    checked: InvariantId[];
    /** Violations found, in time order. */
    violations: {
      /** The invariant violated. */
      invariant: InvariantId;
      /** When, ns. */
      time_ns: number;
      /** The CPU concerned. */
      cpu: number;
      /** What went wrong. */
      detail: string;
    }[];
  };
  /** Digest of the event stream. */
  digest: string;
}

const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** Builds the contract's report from a finished kernel. */
export function buildReport(k: Kernel, spec: ScenarioSpec): Report {
  const measured = spec.duration - spec.warmup;
  const cpus: CpuReport[] = k.cpus.map((c) => {
    const n = k.accounting.cpus[c.id]!;
    const ts = k.tick.ts[c.id]!;
    const interruptions = Object.fromEntries(interruptionKeys.map((key, i) => [key, n.counts[i]!])) as Record<InterruptionKey, number>;
    const keptBy = Object.fromEntries(tickKeptByKeys.map((key, i) => [key, ts.keptCounts[i]!])) as Record<TickKeptBy, number>;
    const noise = n.hasUserTask ? n.noiseNs : 0;
    return {
      cpu: c.id,
      isolated: c.nohzFull,
      noise_ns: noise,
      max_single_noise_ns: n.hasUserTask ? n.maxSingleNs : 0,
      available_pct: round((100 * (measured - noise)) / measured, 6),
      interruptions,
      tick: { stopped_pct: round((100 * ts.stoppedNs) / measured, 4), stops: ts.stops, restarts: ts.restarts, kept_by: keptBy },
    };
  });
  const roles = { rcu_callback: 0, rcu_gp: 0, kworker: 0, other: 0, total: 0 };
  for (const t of k.sched.tasks) {
    if (t.user) continue;
    roles.total++;
    if (t.role === "rcu_callback" || t.role === "rcu_gp" || t.role === "kworker") roles[t.role]++;
    else roles.other++;
  }
  const stats: Record<string, Record<string, unknown>> = {};
  for (const [name, f] of k.mechanismStats) stats[name] = f();
  const hs = k.housekeepingStats;
  return {
    scenario: spec.name,
    seed: spec.seed,
    kernel: {
      preset: k.preset,
      cpus: k.nrCpus,
      hz: k.params.hz,
      nohz_full: k.hk.nohzFull.toString(),
      mechanisms: k.mechanisms.map((m) => (m.variant !== undefined ? { name: m.name, variant: m.variant } : { name: m.name })),
    },
    simulated_ns: spec.duration,
    measured_ns: measured,
    events: k.engine.events,
    cpus,
    housekeeping: { remote_ticks: hs.remoteTicks, lru_drains: hs.lruDrains, tlb_flushes: hs.tlbFlushes, noise_ns: hs.noiseNs },
    kthreads: roles,
    mechanism_stats: stats,
    invariants: {
      checked: [...k.invariants.checked].sort(),
      violations: k.invariants.violations.map((v) => ({ invariant: v.invariant, time_ns: v.timeNs, cpu: v.cpu, detail: v.detail })),
    },
    digest: k.engine.digest(),
  };
}
