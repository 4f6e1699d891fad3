import type { Nanoseconds } from "../../engine/engine.js";
import type { Kernel } from "../../kernel.js";
import { CtState } from "../../machine/cpu.js";

/** The ordered steps of kernel entry from user or idle (arch/x86/entry/entry_64.S, kernel/entry/common.c). */
export const kernelEntrySteps = ["register_save", "cr3_switch", "stack_switch", "context_tracking", "deferred_work"] as const;

/** Index of the context-tracking step in {@link kernelEntrySteps}. */
const CONTEXT_TRACKING_STEP = kernelEntrySteps.indexOf("context_tracking");

/** One kernel entry step. */
export type KernelEntryStep = (typeof kernelEntrySteps)[number];

/** A hook at a kernel entry step; `ctWork` holds the deferred-work bits the context-tracking step found. */
export type EntryHook = (cpu: number) => void;

/**
 * Kernel entry and exit as named steps, so mechanisms can act at a precise one: the context-tracking
 * step leaves the extended quiescent state (ct_user_exit()/ct_idle_exit()) and collects CT_WORK bits.
 */
export class KernelEntry {
  /** Hooks of each step, in the order of {@link kernelEntrySteps} (empty arrays for steps without any). */
  private readonly hooks: EntryHook[][] = kernelEntrySteps.map(() => []);
  /** Deferred-work bits collected by each CPU's last context-tracking step (CT_WORK_*). */
  readonly ctWork: Int32Array;
  /** Steps that touch vmalloc'd memory (the vmap'd stack after the stack switch). */
  readonly touchesVmalloc: ReadonlySet<KernelEntryStep> = new Set<KernelEntryStep>(["stack_switch"]);
  private readonly chargedNs: Nanoseconds[];

  constructor(private readonly k: Kernel) {
    this.ctWork = new Int32Array(k.nrCpus);
    this.chargedNs = new Array<Nanoseconds>(k.nrCpus).fill(0);
  }

  /** Adds a hook at an entry step; hooks of a step run in the order added. */
  on(step: KernelEntryStep, hook: EntryHook): void {
    this.hooks[kernelEntrySteps.indexOf(step)]!.push(hook);
  }

  /** Runs the entry steps of `cpu` in order; returns the time hooks charged (work done at entry), ns. */
  enter(cpu: number): Nanoseconds {
    const c = this.k.cpus[cpu]!;
    this.chargedNs[cpu] = 0;
    const hooks = this.hooks;
    for (let i = 0; i < hooks.length; i++) {
      if (i === CONTEXT_TRACKING_STEP) this.ctWork[cpu] = this.ctWork[cpu]! | c.ctTransition(CtState.kernel);
      const list = hooks[i]!;
      for (let j = 0; j < list.length; j++) list[j]!(cpu);
    }
    return this.chargedNs[cpu]!;
  }

  /** From an entry hook: adds `ns` of work (e.g. a TLB flush at entry, ct_work_flush()) to this entry's cost. */
  charge(cpu: number, ns: Nanoseconds): void {
    this.chargedNs[cpu] = this.chargedNs[cpu]! + ns;
  }

  /** Takes (and clears) the deferred-work bits collected at entry on `cpu`. */
  takeCtWork(cpu: number): number {
    const w = this.ctWork[cpu]!;
    this.ctWork[cpu] = 0;
    return w;
  }

  /** The CPU enters the idle loop: context tracking enters EQS (ct_idle_enter()). */
  exitToIdle(cpu: number): void {
    this.k.cpus[cpu]!.ctTransition(CtState.idle);
  }
}
