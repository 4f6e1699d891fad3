import type { Nanoseconds } from "./engine/engine.js";
import type { MechanismEntry } from "./mechanism.js";

/** The kernel part of a scenario (contract: `kernel`). */
export interface KernelSpec {
  /** Preset name. */
  preset: string;
  /** Number of CPUs. */
  cpus: number;
  /** CONFIG_HZ; the preset's when absent. */
  hz?: number;
  /** nohz_full cpu list. */
  nohzFull?: string;
  /** A kernel command line instead of nohzFull. */
  cmdline?: string;
  /** Mechanisms after the preset's. */
  mechanisms?: MechanismEntry[];
  /** Parameter overrides, snake_case names. */
  params?: Record<string, unknown>;
}

/** Fields shared by periodic workloads. */
export interface PeriodicSpec {
  /** Period, ns. */
  every: Nanoseconds;
  /** First firing, ns (default: every). */
  at?: Nanoseconds;
  /** Uniform delay drawn in [0, jitter] per firing, ns. */
  jitter?: Nanoseconds;
}

/** A workload item (contract: `workload[]`). */
export type WorkloadSpec =
  | { type: "user-loop"; cpus: string; tasks?: number; policy?: "other" | "fifo" | "rr"; priority?: number }
  | ({ type: "syscall"; cpus: string; call: SyscallName; pages?: number } & PeriodicSpec)
  | ({ type: "vmalloc-churn"; cpus: string; pages: number } & PeriodicSpec)
  | ({ type: "lru-drain-all"; cpus: string } & PeriodicSpec)
  | ({ type: "wakeup"; cpus: string; run: Nanoseconds } & PeriodicSpec)
  | ({ type: "kernel-loop"; cpus: string; run: Nanoseconds } & PeriodicSpec);

/** Syscalls of the `syscall` workload. */
export type SyscallName = "getpid" | "file-write" | "page-fault" | "mlock" | "call-rcu";

/** A validated scenario (contract: scenario file), durations in ns. */
export interface ScenarioSpec {
  /** Name. */
  name: string;
  /** One sentence. */
  description?: string;
  /** PRNG seed. */
  seed: number;
  /** Simulated duration, ns. */
  duration: Nanoseconds;
  /** Start of the measured window, ns. */
  warmup: Nanoseconds;
  /** The machine and kernel. */
  kernel: KernelSpec;
  /** What runs. */
  workload: WorkloadSpec[];
}
