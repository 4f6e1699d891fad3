import { cpusOf } from "./cpulist.js";
import type { ScenarioObject } from "./scenario-object.js";

/**
 * A configuration whose violation is known and documented — a hazard of the modelled kernel or
 * mechanism, not a bug torture should look for again: by default torture generates around it (and
 * the shrinker never steps into it), so a violation it finds is news.
 */
export interface KnownHazard {
  /** Short name, in kebab-case. */
  readonly id: string;
  /** What goes wrong, where it is documented, and the invariant that sees it. */
  readonly why: string;
  /** Whether a scenario object has the configuration. */
  applies(o: ScenarioObject): boolean;
}

/** Kernel entry steps in order (arch/x86/entry, the core's kernelEntrySteps). */
const ENTRY = ["register_save", "cr3_switch", "stack_switch", "context_tracking", "syscall_trace", "deferred_work"];

/** The step where tlb-defer (ct-work) flushes in a scenario object, or null when it is not composed or flushes at the CR3 switch. */
function tlbDeferFlushStep(o: ScenarioObject): string | null {
  const entry = (o.kernel.mechanisms ?? []).find((m) => (typeof m === "string" ? m : m.name) === "tlb-defer");
  if (entry === undefined) return null;
  if (typeof entry !== "string" && entry.variant === "cr3-switch") return null;
  const given = typeof entry === "string" ? undefined : entry.options?.flush_step;
  if (typeof given === "string") return given;
  const pti = o.kernel.params?.pti === true || /(?:^| )pti=on(?: |$)/.test(o.kernel.cmdline ?? "");
  return pti ? "cr3_switch" : "context_tracking";
}

/** The nohz_full CPUs of a scenario object (from `nohz_full` or its command line), without the boot CPU. */
function isolatedOf(o: ScenarioObject): Set<number> {
  const list = o.kernel.nohz_full ?? /(?:^| )nohz_full=(\S+)/.exec(o.kernel.cmdline ?? "")?.[1] ?? "";
  try {
    return new Set(cpusOf(list, o.kernel.cpus).filter((c) => c !== 0));
  } catch {
    return new Set();
  }
}

/** Presets whose RT_RUNTIME_SHARE is on (a busy RT task borrows the other CPUs' runtime and is never throttled). */
const RT_RUNTIME_SHARE_PRESETS = ["linux-4.9"];

/** The hazards torture avoids unless told otherwise (`isolsim torture --known-hazards`). */
export const knownHazards: readonly KnownHazard[] = Object.freeze([
  {
    id: "tlb-defer-flush-after-bpf",
    why:
      "tlb-defer (ct-work) flushes a deferred kernel TLB flush at its entry step; a BPF program attached before that step " +
      "(a kprobe on do_syscall_64() runs before context tracking; the sys_enter tracepoint before deferred_work) reads a freed " +
      "and re-mapped JIT image through a stale entry: tlb-no-stale (packages/tlb-defer/README.md; apps/demo/scenarios/tlb-defer-kprobe.json, tlb-defer-unsafe.json)",
    applies(o: ScenarioObject): boolean {
      const step = tlbDeferFlushStep(o);
      if (step === null) return false;
      const at = ENTRY.indexOf(step);
      return o.workload.some((w) => {
        if (w.type !== "bpf") return false;
        const attach = w.attach ?? "sys_enter";
        return attach === "kprobe" ? at >= ENTRY.indexOf("context_tracking") : at >= ENTRY.indexOf("deferred_work");
      });
    },
  },
  {
    id: "rt-task-starves-kthreads",
    why:
      "a busy SCHED_FIFO/SCHED_RR user-loop on a housekeeping CPU starves the RCU and workqueue kthreads that run there " +
      "(rcu-callbacks-invoked, rcu-gp-progress, workqueue-progress: apps/demo/scenarios/rcu-starved.json); on an isolated CPU " +
      "with RT_RUNTIME_SHARE (4.9) it is never throttled and starves its own kworker, so lru_add_drain_all()'s flush_work() never " +
      "returns (workqueue-progress: apps/demo/scenarios/workqueue-starvation.json)",
    applies(o: ScenarioObject): boolean {
      const isolated = isolatedOf(o);
      const share = typeof o.kernel.params?.rt_runtime_share === "boolean" ? o.kernel.params.rt_runtime_share : RT_RUNTIME_SHARE_PRESETS.includes(o.kernel.preset);
      return o.workload.some((w) => {
        if (w.type !== "user-loop" || (w.policy !== "fifo" && w.policy !== "rr")) return false;
        let cpus: number[];
        try {
          cpus = cpusOf(w.cpus, o.kernel.cpus);
        } catch {
          return false;
        }
        return cpus.some((c) => !isolated.has(c) || share);
      });
    },
  },
]);

/** The first of `hazards` that applies to `o`, or null. */
export function hazardOf(o: ScenarioObject, hazards: readonly KnownHazard[]): KnownHazard | null {
  return hazards.find((h) => h.applies(o)) ?? null;
}
