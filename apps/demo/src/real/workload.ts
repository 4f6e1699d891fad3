import { CpuMask, housekeepingSetup, parseKernelCmdline } from "@isolsim/core";
import type { BootParams, ScenarioSpec, WorkloadSpec } from "@isolsim/core";
import { BadInput } from "../problems.js";

/**
 * How the workload program (workload.c) reproduces each workload type on a real kernel, for the
 * report's notes and the docs: what runs in the guest in its place.
 */
export const REAL_EQUIVALENTS: Readonly<Record<WorkloadSpec["type"], string>> = {
  "user-loop": "a busy user process per task, pinned with sched_setaffinity() (policy and priority with sched_setscheduler())",
  syscall: "the CPU's first user-loop process makes the call when the controller on a housekeeping CPU flags it (no clock read or syscall between calls)",
  "lru-drain-all": 'a write of "1" to /proc/sys/vm/compact_memory from a process pinned to the CPU: mm/compaction.c compact_nodes() calls lru_add_drain_all(), then compacts memory',
  "vmalloc-churn":
    "fork/exit churn from a process pinned to the CPU: ceil(pages/4)+2 children at once, more than the 2 stacks kernel/fork.c caches per CPU, so the other vmap'd stacks (CONFIG_VMAP_STACK) are vfree()d (lazily purged, kernel TLB flushes)",
  wakeup: "a user process pinned to the CPU, woken each period (a user task, not the model's kernel thread), spinning for `run`",
  "kernel-loop": "not reproducible: a user program cannot make the kernel loop for a chosen time",
  bpf: "from a housekeeping CPU, a raw tracepoint program on sys_enter loaded and attached each period and the previous one dropped (JIT images vmalloc()ed and vfree()d); attach kprobe is not reproduced",
};

/** The effective boot parameters of a scenario: its `kernel.cmdline`, or `nohz_full=` from `kernel.nohz_full`. */
export function guestBootParams(spec: ScenarioSpec): string {
  const k = spec.kernel;
  if (k.cmdline !== undefined) return k.cmdline.trim();
  return k.nohzFull !== undefined && k.nohzFull !== "" ? `nohz_full=${k.nohzFull}` : "";
}

/** The first housekeeping CPU (kernel/sched/isolation.c housekeeping_any_cpu()): where the controller and the bpf loader run. */
export function housekeepingCpu(spec: ScenarioSpec): number {
  const boot: BootParams = parseKernelCmdline(guestBootParams(spec), spec.kernel.cpus);
  const hk = housekeepingSetup(boot, spec.kernel.cpus);
  const free = hk.housekeeping.andNot(hk.isolated);
  return free.isEmpty() ? hk.housekeeping.first() : free.first();
}

const cpusOf = (w: WorkloadSpec, nr: number): number[] => CpuMask.parse(w.cpus, nr).toArray();

/**
 * The arguments of the workload program for a scenario (its usage is at the top of workload.c):
 * `DURATION_NS WARMUP_NS SEED HK_CPU ITEM…`. A workload a user program cannot reproduce is bad
 * input naming the item (`kernel-loop`, bpf `attach: "kprobe"`).
 */
export function workloadArgs(spec: ScenarioSpec): string[] {
  const nr = spec.kernel.cpus;
  const problems: { field: string; message: string }[] = [];
  const items: string[] = [];
  spec.workload.forEach((w, i) => {
    const field = `workload[${i}]`;
    const periodic = (): string => {
      const p = w as { every: number; at?: number; jitter?: number };
      return `${p.every}:${p.at ?? p.every}:${p.jitter ?? 0}`;
    };
    switch (w.type) {
      case "user-loop":
        for (const cpu of cpusOf(w, nr)) for (let t = 0; t < (w.tasks ?? 1); t++) items.push(`loop:${cpu}:${w.policy ?? "other"}:${w.priority ?? 0}`);
        break;
      case "syscall":
        for (const cpu of cpusOf(w, nr)) items.push(`syscall:${cpu}:${w.call}:${periodic()}:${w.pages ?? 8}`);
        break;
      case "lru-drain-all":
        if (w.pcp === true) problems.push({ field: `${field}.pcp`, message: "true is not reproducible on a real kernel: a user program cannot call drain_all_pages() alone (valid here: false or absent; /proc/sys/vm/compact_memory drains the LRU batches only)" });
        for (const cpu of cpusOf(w, nr)) items.push(`compact:${cpu}:${periodic()}`);
        break;
      case "vmalloc-churn":
        for (const cpu of cpusOf(w, nr)) items.push(`forkchurn:${cpu}:${periodic()}:${Math.ceil(w.pages / 4) + 2}`);
        break;
      case "wakeup":
        for (const cpu of cpusOf(w, nr)) items.push(`wakeup:${cpu}:${periodic()}:${w.run}`);
        break;
      case "bpf":
        if (w.attach === "kprobe") problems.push({ field: `${field}.attach`, message: '"kprobe" is not reproduced on a real kernel by isolsim real (valid here: "sys_enter" or absent)' });
        else items.push(`bpf:${housekeepingCpu(spec)}:${periodic()}`);
        break;
      case "kernel-loop":
        problems.push({ field: `${field}.type`, message: `"kernel-loop" cannot be reproduced on a real kernel: a user program cannot make the kernel loop for a chosen time (valid for isolsim real: ${Object.keys(REAL_EQUIVALENTS).filter((t) => t !== "kernel-loop").join(", ")})` });
        break;
    }
  });
  if (problems.length) throw new BadInput(problems);
  return [String(spec.duration), String(spec.warmup), String(spec.seed), String(housekeepingCpu(spec)), ...items];
}
