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
  | {
      /** Busy user tasks, forever. */
      type: "user-loop";
      /** CPUs that each get the tasks (cpu list). */
      cpus: string;
      /** Busy tasks per listed CPU (default 1). */
      tasks?: number;
      /** Scheduling policy (default `other`). */
      policy?: "other" | "fifo" | "rr";
      /** RT priority 1-99, for `fifo` and `rr`. */
      priority?: number;
    }
  | ({
      /** The CPU's user-loop task enters the kernel periodically. */
      type: "syscall";
      /** CPUs whose user-loop task makes the call (cpu list). */
      cpus: string;
      /** Which syscall. */
      call: SyscallName;
      /** Pages per call for `file-write`, `page-fault`, `mlock` (default 8). */
      pages?: number;
    } & PeriodicSpec)
  | ({
      /** vmalloc() + vfree() of `pages` pages each period, in kernel context. */
      type: "vmalloc-churn";
      /** CPUs that churn (cpu list). */
      cpus: string;
      /** Pages per vmalloc. */
      pages: number;
    } & PeriodicSpec)
  | ({
      /** Calls lru_add_drain_all() each period, in kernel context. */
      type: "lru-drain-all";
      /** CPUs that call it (cpu list). */
      cpus: string;
      /** Then drain_all_pages() too, as alloc_contig_range() and offline_pages() do (default false). */
      pcp?: boolean;
    } & PeriodicSpec)
  | ({
      /** A kernel thread bound to the CPU is woken from a housekeeping CPU and runs. */
      type: "wakeup";
      /** CPUs with such a kthread (cpu list). */
      cpus: string;
      /** How long it runs per wakeup, ns. */
      run: Nanoseconds;
    } & PeriodicSpec)
  | ({
      /** The CPU's task stays in the kernel for `run` each period. */
      type: "kernel-loop";
      /** CPUs that loop in the kernel (cpu list). */
      cpus: string;
      /** How long each kernel stay lasts, ns. */
      run: Nanoseconds;
    } & PeriodicSpec)
  | ({
      /** A BPF program run on the listed CPUs' syscall entries, re-loaded (JIT image vmalloc'd, old one vfree()d) from a housekeeping CPU each period. */
      type: "bpf";
      /** CPUs on which the program runs (cpu list). */
      cpus: string;
      /** Attach point: `sys_enter` (tracepoint, after context tracking; default) or `kprobe` (on do_syscall_64(), before it). */
      attach?: "sys_enter" | "kprobe";
      /** Pages of each JIT image (default 1). */
      pages?: number;
    } & PeriodicSpec);

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
