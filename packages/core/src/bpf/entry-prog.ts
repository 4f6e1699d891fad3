import type { Nanoseconds } from "../engine/engine.js";
import type { Kernel } from "../kernel.js";
import type { KernelEntryStep } from "../arch/x86/entry.js";
import { Context, segment } from "../machine/cpu.js";
import type { Segment } from "../machine/cpu.js";
import type { VmapArea } from "../mm/vmalloc.js";
import type { Task } from "../sched/task.js";
import { periodic } from "../workload/periodic.js";

/** Options of {@link attachEntryBpfProg}. */
export interface EntryBpfProgOptions {
  /** The kernel-entry step whose code runs the program (where it is attached). */
  step: KernelEntryStep;
  /** The CPU whose loader task JITs each new image and replaces the attached program (a housekeeping CPU). */
  cpu: number;
  /** Period of the replacement, ns. */
  every: Nanoseconds;
  /** First replacement, ns (default: `every`). */
  at?: Nanoseconds;
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
}

/**
 * A BPF program attached to kernel-entry code and replaced over and over from a housekeeping CPU
 * (a tracing agent re-loading its program: bpf_prog_load() → bpf_jit_binary_alloc(), whose image
 * is vmalloc'd in the module area, then bpf_link_update() → rcu_assign_pointer() of the new
 * program and bpf_prog_put() → bpf_jit_free() → vfree() of the old image; Linux frees it after an
 * RCU grace period, which only delays the vfree()). Every CPU executes the attached image at `step`
 * of each kernel entry, a kernel access to the image's first page through its TLB: after a purge
 * re-maps a freed image's addresses, a CPU that still caches the old translation uses a stale
 * entry unless it flushed first (`tlb-no-stale`). Linux marks entry code before context tracking
 * `noinstr` so nothing can be attached there; attaching at an earlier step models a kernel whose
 * early entry touches vmalloc'd memory other than the current task's stack (kernel-model.md §8).
 */
export function attachEntryBpfProg(k: Kernel, o: EntryBpfProgOptions): EntryBpfProg {
  const prog: EntryBpfProg = { step: o.step, image: null, loads: 0, runs: 0 };
  const loader = k.sched.createTask({ name: `bpf-loader/${o.cpu}`, cpu: o.cpu, user: false, role: "other" });
  k.entry.on(o.step, (cpu) => {
    if (!prog.image) return;
    prog.runs++;
    k.tlb.touch(cpu, prog.image.start);
  });
  const spec = o.at === undefined ? { every: o.every } : { every: o.every, at: o.at };
  periodic(k, `bpf-entry-prog:${o.step}:${o.cpu}`, spec, [o.cpu], (cpu) => {
    k.irq.raise(
      cpu,
      segment("hrtimer_wakeup", k.params.ipiHandlerNs, Context.irq, {
        start: () => {
          loader.segs.push(...bpfProgReplace(k, prog, loader, o.pages));
          k.sched.wakeUp(loader, cpu);
        },
      }),
    );
  });
  return prog;
}

/** One replacement by `loader`: JIT a new image of `pages` pages, attach it, vfree() the old one. */
function bpfProgReplace(k: Kernel, prog: EntryBpfProg, loader: Task, pages: number): Segment[] {
  let image: VmapArea | null = null;
  const cost = pages * k.params.vmallocPageNs;
  return [
    segment("bpf_jit_binary_alloc", cost, Context.kernel, {
      start: () => {
        image = k.vmalloc.vmalloc(pages);
      },
      end: () => {
        for (let p = image!.start; p < image!.start + pages; p++) k.tlb.touch(loader.cpu, p);
      },
    }),
    segment("bpf_prog_put", cost, Context.kernel, {
      start: () => {
        const old = prog.image;
        prog.image = image;
        prog.loads++;
        if (old) loader.segs.splice(1, 0, ...k.vmalloc.vfree(old));
      },
    }),
  ];
}
