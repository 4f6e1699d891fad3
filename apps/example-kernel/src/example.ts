import { simulate } from "@isolsim/core";
import type { Mechanism, MechanismRegistry, Report, ScenarioSpec } from "@isolsim/core";
import { oneshotStopped } from "@isolsim/oneshot-stopped";
import { remoteStats } from "@isolsim/remote-stats";
import { residualTickStretch, residualTickStretchFactory } from "./residual-tick-stretch.js";

const S = 1_000_000_000;
const MS = 1_000_000;
const US = 1_000;

/**
 * The scenario, built in code: an 8-CPU linux-4.9 machine with CPUs 1-7 in nohz_full, a busy user
 * task on CPUs 1-6, and a kernel thread woken on CPU 7 (otherwise idle) every 300 ms.
 */
export function exampleScenario(seconds = 5): ScenarioSpec {
  return {
    name: "example-kernel",
    description: "busy isolated CPUs 1-6 and an idle isolated CPU 7 woken every 300 ms",
    seed: 1,
    duration: seconds * S,
    warmup: 1 * S,
    kernel: { preset: "linux-4.9", cpus: 8, hz: 1000, nohzFull: "1-7" },
    workload: [
      { type: "user-loop", cpus: "1-6" },
      { type: "wakeup", cpus: "7", every: 300 * MS, run: 20 * US },
    ],
  };
}

/** The kernels the example compares: a name and the mechanism values composed on linux-4.9. */
export const configurations: readonly { name: string; mechanisms: () => Mechanism[] }[] = [
  { name: "linux-4.9", mechanisms: () => [] },
  { name: "+ remote-stats", mechanisms: () => [remoteStats()] },
  { name: "+ remote-stats, oneshot-stopped", mechanisms: () => [remoteStats(), oneshotStopped()] },
  { name: "+ residual-tick-stretch (4 s)", mechanisms: () => [residualTickStretch({ seconds: 4 })] },
];

/** A few figures of one run. */
export interface Figures {
  /** Configuration name. */
  config: string;
  /** Ticks CPU 1 (busy, isolated) received in the measured window. */
  cpu1Ticks: number;
  /** Spurious timer interrupts CPU 7 (idle, isolated) received. */
  cpu7Spurious: number;
  /** Total noise on the busy isolated CPUs 1-6, ns. */
  busyNoiseNs: number;
  /** sched_tick_remote() runs on housekeeping CPUs. */
  remoteTicks: number;
  /** Invariant violations. */
  violations: number;
}

/** The figures the example prints, read from a report. */
export function figures(config: string, report: Report): Figures {
  const busy = report.cpus.filter((c) => c.cpu >= 1 && c.cpu <= 6);
  return {
    config,
    cpu1Ticks: report.cpus[1]!.interruptions.tick,
    cpu7Spurious: report.cpus[7]!.interruptions.spurious_timer,
    busyNoiseNs: busy.reduce((sum, c) => sum + c.noise_ns, 0),
    remoteTicks: report.housekeeping.remote_ticks,
    violations: report.invariants.violations.length,
  };
}

/** Runs the scenario under every configuration, composing mechanism values in code. */
export function runAll(seconds = 5): Figures[] {
  return configurations.map(({ name, mechanisms }) => {
    const { report } = simulate(exampleScenario(seconds), { mechanisms: mechanisms() });
    return figures(name, report);
  });
}

/** The same composition by name, as a scenario file would give it: the app's registry resolves names. */
export const registry: MechanismRegistry = {
  "remote-stats": () => remoteStats(),
  "oneshot-stopped": () => oneshotStopped(),
  "residual-tick-stretch": residualTickStretchFactory,
};

/** Runs the scenario with `kernel.mechanisms` given by name (and options), resolved through {@link registry}. */
export function runByName(entries: NonNullable<ScenarioSpec["kernel"]["mechanisms"]>, seconds = 5): Report {
  const spec = exampleScenario(seconds);
  spec.kernel.mechanisms = entries;
  return simulate(spec, { registry }).report;
}
