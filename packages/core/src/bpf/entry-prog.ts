import { Src } from "../accounting/sources.js";
import type { Nanoseconds } from "../engine/engine.js";
import type { Kernel } from "../kernel.js";
import { EntryKind } from "../arch/x86/entry.js";
import type { KernelEntryStep } from "../arch/x86/entry.js";
import { textPokeBp } from "../arch/x86/alternative.js";
import { Context, segment } from "../machine/cpu.js";
import type { Segment } from "../machine/cpu.js";
import type { VmapArea } from "../mm/vmalloc.js";
import { InputError } from "../params.js";
import type { Task } from "../sched/task.js";
import { periodic } from "../workload/periodic.js";
import type { WorkloadInstaller } from "../workload/workload.js";

/**
 * Where a `bpf` workload's program is attached, each run on syscall entry only:
 * - `sys_enter`: the raw syscall tracepoint, fired by syscall_trace_enter() → trace_sys_enter() after
 *   context tracking (4.9 arch/x86/entry/common.c:123, 272): the `syscall_trace` entry step.
 * - `kprobe`: a kprobe on do_syscall_64(), the first C function of a syscall, before its
 *   enter_from_user_mode() (4.9 common.c:263-268; 4.9 blacklists only .entry.text and .kprobes.text,
 *   kernel/kprobes.c within_kprobe_blacklist(): `noinstr` came in 5.8): the end of `stack_switch`.
 */
export const bpfAttachPoints = ["sys_enter", "kprobe"] as const;

/** One of {@link bpfAttachPoints}. */
export type BpfAttach = (typeof bpfAttachPoints)[number];

/** The kernel-entry step at which a program attached at each {@link BpfAttach} runs. */
export const bpfAttachStep: Readonly<Record<BpfAttach, KernelEntryStep>> = Object.freeze({ sys_enter: "syscall_trace", kprobe: "stack_switch" });

/** Options of {@link attachEntryBpfProg}. */
export interface EntryBpfProgOptions {
  /** Where the program is attached (default `sys_enter`). */
  attach?: BpfAttach;
  /** The entry step whose code runs the program, overriding `attach`'s (tests of other orders). */
  step?: KernelEntryStep;
  /** CPUs on which the program runs (it returns at once elsewhere; default every CPU). */
  cpus?: readonly number[];
  /** The CPU whose loader task JITs each new image and replaces the attached program (a housekeeping CPU). */
  cpu: number;
  /** Period of the replacement, ns. */
  every: Nanoseconds;
  /** First load, ns (default: `every`). */
  at?: Nanoseconds;
  /** Each load delayed by a uniform draw in [0, jitter] ns (default 0). */
  jitter?: Nanoseconds;
  /** Pages of each JIT image. */
  pages: number;
}

/** A JIT'd BPF program that kernel-entry code runs, replaced periodically ({@link attachEntryBpfProg}). */
export interface EntryBpfProg {
  /** The entry step that runs it. */
  readonly step: KernelEntryStep;
  /** The image now attached (the pages of prog->bpf_func), or null before the first load. */
  image: VmapArea | null;
  /** Images loaded and attached so far. */
  loads: number;
  /** Times a CPU ran the program at kernel entry. */
  runs: number;
  /** text_poke_bp() calls its attaches made (the first attach enables the attach point). */
  textPokes: number;
}

/**
 * A BPF program attached at syscall entry and replaced over and over from a housekeeping CPU (a
 * tracing agent re-loading its program). Each load: bpf_prog_load() → the JIT's
 * bpf_jit_binary_alloc() → module_alloc(), a vmalloc'd image (4.9 kernel/bpf/core.c:212-224,
 * arch/x86/kernel/module.c module_alloc(); the model has one vmalloc space for modules and
 * vmalloc), written by the loader. The first attach enables the attach point by patching kernel
 * text: the tracepoint's static key (jump_label_update() → arch_jump_label_transform()) or the
 * kprobe's optimisation (arch/x86/kernel/kprobes/opt.c:403 arch_optimize_kprobes()), both
 * text_poke_bp(), whose sync rounds IPI every CPU (`ipi_call_function`). Later loads are attached
 * before the old program is detached, so the attach point stays enabled and nothing is patched:
 * rcu_assign_pointer() of the new program, then bpf_prog_put() of the old one → bpf_jit_free() →
 * bpf_jit_binary_free() → module_memfree() → vfree() of its image (core.c:242-244; Linux frees it
 * after an RCU grace period, which only delays the vfree()). Every listed CPU runs the attached
 * image at the program's entry step on each syscall: a kernel access to the image's first page
 * through its TLB. After a purge re-maps a freed image's addresses, a CPU that still caches the old
 * translation uses a stale entry unless it flushed first (`tlb-no-stale`).
 */
export function attachEntryBpfProg(k: Kernel, o: EntryBpfProgOptions): EntryBpfProg {
  const step = o.step ?? bpfAttachStep[o.attach ?? "sys_enter"];
  const prog: EntryBpfProg = { step, image: null, loads: 0, runs: 0, textPokes: 0 };
  const loader = k.sched.createTask({ name: `bpf-loader/${o.cpu}`, cpu: o.cpu, user: false, role: "other" });
  const runsOn = new Uint8Array(k.nrCpus);
  if (o.cpus === undefined) runsOn.fill(1);
  else for (const cpu of o.cpus) runsOn[cpu] = 1;
  k.entry.on(step, (cpu, kind) => {
    if (kind !== EntryKind.syscall || runsOn[cpu] === 0 || !prog.image) return;
    prog.runs++;
    k.tlb.touch(cpu, prog.image.start);
  });
  const spec = { every: o.every, ...(o.at === undefined ? {} : { at: o.at }), ...(o.jitter === undefined ? {} : { jitter: o.jitter }) };
  periodic(k, `bpf-entry-prog:${step}:${o.cpu}`, spec, [o.cpu], (cpu) => {
    k.irq.raise(
      cpu,
      segment("hrtimer_wakeup", k.params.ipiHandlerNs, Context.irq, {
        source: Src.hrtimer,
        start: () => {
          loader.segs.push(...bpfProgReplace(k, prog, loader, o.pages));
          k.sched.wakeUp(loader, cpu);
        },
      }),
    );
  });
  return prog;
}

/** One load by `loader`: JIT a new image of `pages` pages, attach it (patching text the first time), vfree() the old one. */
function bpfProgReplace(k: Kernel, prog: EntryBpfProg, loader: Task, pages: number): Segment[] {
  let image: VmapArea | null = null;
  const cost = pages * k.params.vmallocPageNs;
  return [
    segment("bpf_jit_binary_alloc", cost, Context.kernel, {
      source: Src.kthread,
      start: () => {
        image = k.vmalloc.vmalloc(pages);
      },
      end: () => {
        k.tlb.touchRange(loader.cpu, image!.start, image!.start + pages);
      },
    }),
    segment("bpf_prog_attach", k.params.syscallNs, Context.kernel, {
      start: () => {
        const old = prog.image;
        prog.image = image;
        prog.loads++;
        const work: Segment[] = [];
        if (!old) {
          prog.textPokes++;
          work.push(...textPokeBp(k, loader));
        } else work.push(...k.vmalloc.vfree(old));
        if (work.length > 0) loader.segs.splice(1, 0, ...work);
      },
    }),
  ];
}

/**
 * The `bpf` workload: a program attached at `attach` (default `sys_enter`) that runs on the listed
 * CPUs' syscalls, re-loaded every `every` by a loader task on the first housekeeping CPU, each image
 * `pages` pages (default 1) — see {@link attachEntryBpfProg}.
 */
export const bpfWorkload: WorkloadInstaller = (k, spec, cpus, field) => {
  if (spec.type !== "bpf") return;
  const attach = spec.attach ?? "sys_enter";
  if (!(bpfAttachPoints as readonly string[]).includes(attach)) {
    throw new InputError(`${field}.attach`, `${JSON.stringify(attach)} is not valid (valid: ${bpfAttachPoints.join(", ")})`);
  }
  const pages = spec.pages ?? 1;
  if (!Number.isInteger(pages) || pages < 1) {
    throw new InputError(`${field}.pages`, `${JSON.stringify(pages)} is not valid (valid: an integer >= 1)`);
  }
  const o: EntryBpfProgOptions = { attach, cpus, cpu: k.hk.housekeeping.first(), every: spec.every, pages };
  if (spec.at !== undefined) o.at = spec.at;
  if (spec.jitter !== undefined) o.jitter = spec.jitter;
  attachEntryBpfProg(k, o);
};
