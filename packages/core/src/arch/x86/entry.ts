import type { Nanoseconds } from "../../engine/engine.js";
import type { Kernel } from "../../kernel.js";
import { CtState } from "../../machine/cpu.js";

/**
 * Every kernel-entry step the model knows, in the order they run where they exist
 * (arch/x86/entry/entry_64.S, arch/x86/entry/common.c); a kernel runs {@link kernelEntryStepsOf} them:
 * - `register_save`: SWAPGS and the user %rsp parked in rsp_scratch (4.9 entry_64.S:148-156), asm.
 * - `cr3_switch`: SWITCH_TO_KERNEL_CR3, PTI kernels only (v4.15+), asm.
 * - `stack_switch`: %rsp loaded from cpu_current_top_of_stack and pt_regs pushed on the vmap'd task
 *   stack (4.9 entry_64.S:157-177; an interrupt from user has its frame pushed at TSS.sp0, the same
 *   stack): the first touch of vmalloc'd memory. The end of this step is where C code begins: a
 *   kprobe on do_syscall_64() (not blacklisted in 4.9; `noinstr` only came in 5.8) runs here.
 * - `context_tracking`: enter_from_user_mode() → user_exit_irqoff() (4.9 common.c:36-40, called
 *   first in do_syscall_64(), common.c:268; from the `interrupt` macro for IRQs, entry_64.S:492),
 *   which leaves RCU's extended quiescent state (kernel/context_tracking.c __context_tracking_exit()).
 * - `syscall_trace`: syscall_trace_enter() → trace_sys_enter() (4.9 common.c:272, 123): the
 *   `sys_enter` tracepoint and the BPF programs attached to it.
 * - `deferred_work`: the body of the syscall or handler begins (anything later than entry tracing).
 */
export const kernelEntrySteps = ["register_save", "cr3_switch", "stack_switch", "context_tracking", "syscall_trace", "deferred_work"] as const;

/** One kernel entry step. */
export type KernelEntryStep = (typeof kernelEntrySteps)[number];

/** Index of the context-tracking step in {@link kernelEntrySteps}. */
const CONTEXT_TRACKING_STEP = kernelEntrySteps.indexOf("context_tracking");

/**
 * The entry steps of a kernel, in its order: without page-table isolation (4.9; `pti` false) there is
 * no CR3 switch, and the first step that can run C code (a deferred flush) is `context_tracking`.
 */
export function kernelEntryStepsOf(params: { readonly pti: boolean }): readonly KernelEntryStep[] {
  return params.pti ? kernelEntrySteps : kernelEntrySteps.filter((s) => s !== "cr3_switch");
}

/** What brought a CPU into the kernel (the hooks of a step may care: `sys_enter` fires on syscalls only). */
export const EntryKind = {
  /** A syscall (or the task's own fault) from user mode: entry_SYSCALL_64. */
  syscall: 0,
  /** An interrupt or IPI from user mode or idle: the `interrupt` macro / apic_timer_interrupt. */
  interrupt: 1,
  /** The idle task schedules a task: rcu_idle_exit() in do_idle(). */
  idleExit: 2,
} as const;

/** One of {@link EntryKind}'s values. */
export type EntryKindId = (typeof EntryKind)[keyof typeof EntryKind];

/** A hook at a kernel entry step, called with the entering CPU and what brought it in. */
export type EntryHook = (cpu: number, kind: EntryKindId) => void;

/**
 * Kernel entry and exit as named steps, so mechanisms can act at a precise one: the context-tracking
 * step leaves the extended quiescent state (4.9 context_tracking_exit(); rcu_idle_exit() from idle)
 * and collects CT_WORK bits. Hooks of one step run in the order added: mechanisms (installed with the
 * kernel) before workloads.
 */
export class KernelEntry {
  /** This kernel's steps, in order ({@link kernelEntryStepsOf}). */
  readonly steps: readonly KernelEntryStep[];
  /** Hooks of each step, indexed like {@link kernelEntrySteps} (empty arrays for steps without any). */
  private readonly hooks: EntryHook[][] = kernelEntrySteps.map(() => []);
  /** Indices into {@link kernelEntrySteps} of {@link steps}, in order. */
  private readonly order: Int32Array;
  /** Deferred-work bits collected by each CPU's last context-tracking step (CT_WORK_*). */
  readonly ctWork: Int32Array;
  /** Steps that touch vmalloc'd memory (the vmap'd stack at the stack switch). */
  readonly touchesVmalloc: ReadonlySet<KernelEntryStep> = new Set<KernelEntryStep>(["stack_switch"]);
  private readonly chargedNs: Nanoseconds[];

  constructor(private readonly k: Kernel) {
    this.steps = kernelEntryStepsOf(k.params);
    this.order = Int32Array.from(this.steps.map((s) => kernelEntrySteps.indexOf(s)));
    this.ctWork = new Int32Array(k.nrCpus);
    this.chargedNs = new Array<Nanoseconds>(k.nrCpus).fill(0);
  }

  /** Whether this kernel's entry has `step` (`cr3_switch` needs PTI). */
  has(step: KernelEntryStep): boolean {
    return this.steps.includes(step);
  }

  /** Adds a hook at an entry step of this kernel; hooks of a step run in the order added. */
  on(step: KernelEntryStep, hook: EntryHook): void {
    if (!this.has(step)) throw new Error(`kernel entry has no step "${step}" on this kernel (steps: ${this.steps.join(", ")})`);
    this.hooks[kernelEntrySteps.indexOf(step)]!.push(hook);
  }

  /** Runs the entry steps of `cpu` in this kernel's order; returns the time hooks charged (work done at entry), ns. */
  enter(cpu: number, kind: EntryKindId = EntryKind.interrupt): Nanoseconds {
    const c = this.k.cpus[cpu]!;
    this.chargedNs[cpu] = 0;
    const hooks = this.hooks, order = this.order;
    for (let n = 0; n < order.length; n++) {
      const i = order[n]!;
      // 4.9 context tracking: only a CPU whose word left the kernel state changes it — nohz_full CPUs
      // coming from user (context_tracking_cpu_set() is called for nohz_full CPUs only, 4.9
      // kernel/time/tick-sched.c tick_nohz_init()) and any CPU leaving idle (rcu_idle_exit(),
      // rcu_irq_enter() from idle); a housekeeping CPU entering from user bumps nothing.
      if (i === CONTEXT_TRACKING_STEP && c.ctState() !== CtState.kernel) this.ctWork[cpu] = this.ctWork[cpu]! | c.ctTransition(CtState.kernel);
      const list = hooks[i]!;
      for (let j = 0; j < list.length; j++) list[j]!(cpu, kind);
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

  /** The CPU enters the idle loop: RCU enters EQS on every CPU (4.9 rcu_idle_enter(); ct_idle_enter() in 6.x). */
  exitToIdle(cpu: number): void {
    this.k.cpus[cpu]!.ctTransition(CtState.idle);
  }

  /**
   * The CPU returns to user mode: context tracking enters the user EQS on nohz_full CPUs only (4.9
   * context_tracking_enter() returns early unless context_tracking.active, set by
   * context_tracking_cpu_set() for nohz_full CPUs; kernel/context_tracking.c:70).
   */
  exitToUser(cpu: number): void {
    this.k.cpus[cpu]!.ctUserEnter();
  }
}
