import { CT_WORK_SHIFT, CT_WORK_TLBI, CompositionError, InputError, booleanLimit, checkOptions, checkTlbDeferOnlyUser, choiceLimit, kernelEntrySteps, setTextPokeSyncPolicy } from "@isolsim/core";
import type { Kernel, KernelEntryStep, KernelFlush, Limit, Mechanism, Nanoseconds } from "@isolsim/core";
import { PAGE_BYTES, vfreeAccounting } from "./vfree-rcu.js";

/** The variants of tlb-defer, the default first: Schneider's series v3 (the 2016 idea) and v7 (2025). */
export const tlbDeferVariants = ["ct-work", "cr3-switch"] as const;

/** One of {@link tlbDeferVariants}. */
export type TlbDeferVariant = (typeof tlbDeferVariants)[number];

/**
 * The kernel-entry step where the deferred flush runs by default on a kernel: with page-table
 * isolation (v4.15+) the CR3 switch, the first step, before entry code touches any vmalloc'd memory
 * (Schneider v7/v8); without it (4.9) the first step that runs C code, context tracking
 * (enter_from_user_mode(), where ct_work_flush() of v3 sits) — after the asm touched the live task
 * stack and after a kprobe on do_syscall_64(), before the `sys_enter` tracepoint.
 */
export function tlbDeferDefaultFlushStep(params: { readonly pti: boolean }): KernelEntryStep {
  return params.pti ? "cr3_switch" : "context_tracking";
}

/** Deliberate faults, for tests of the invariant checkers only. */
export interface TlbDeferFaults {
  /** Defer (ct-work: cmpxchg CT_WORK_TLBI; cr3-switch: skip the IPI) for nohz_full CPUs in the kernel too. */
  deferInKernel?: boolean;
  /** ct-work: take the CT_WORK_TLBI bit at entry but skip the flush it asks for. */
  skipFlush?: boolean;
}

/** Options of {@link tlbDefer}. */
export interface TlbDeferOptions {
  /** `ct-work` (default: cmpxchg a pending-flush bit into the context-tracking word) or `cr3-switch` (flush at every kernel entry). */
  variant?: TlbDeferVariant;
  /** The kernel-entry step where an isolated CPU runs its flush (default {@link tlbDeferDefaultFlushStep} of the kernel). */
  flushStep?: KernelEntryStep;
  /** vfree() returns areas through an RCU grace period; their flush is batched to its end (default false). */
  vfreeRcu?: boolean;
  /** Deliberate faults (tests of `tlb-defer-only-user` only). */
  faults?: TlbDeferFaults;
}

/** The valid values of each option of {@link TlbDeferOptions}, with why (the limits table's rows for tlb-defer). */
export const tlbDeferOptionLimits: Readonly<Record<"flushStep" | "vfreeRcu", Limit>> = Object.freeze({
  flushStep: choiceLimit(kernelEntrySteps, "the kernel-entry steps of arch/x86/entry (KernelEntry): where the deferred flush can run"),
  vfreeRcu: booleanLimit("a switch: vfree() through an RCU grace period or not"),
});

/** Options as scenario files spell them (`kernel.mechanisms[].options`): snake_case, values unchecked. */
export interface TlbDeferFileOptions {
  /** The variant name. */
  variant?: unknown;
  /** {@link TlbDeferOptions.flushStep}. */
  flush_step?: unknown;
  /** {@link TlbDeferOptions.vfreeRcu}. */
  vfree_rcu?: unknown;
}

/** The option names scenario files may give tlb-defer. */
export const tlbDeferFileOptionNames = ["flush_step", "vfree_rcu"] as const;

/** Figures of tlb-defer, counted in the measured window (report `mechanism_stats["tlb-defer"]`). */
export interface TlbDeferFigures {
  /** flush_tlb_kernel_range() calls that went through the policy. */
  flushes: number;
  /** Flush IPIs sent (ipi_tlb_flush on the target). */
  ipisSent: number;
  /** Of which to nohz_full CPUs (found in the kernel or an interrupt). */
  ipisToIsolated: number;
  /** Targets that got no IPI: deferred (ct-work) or left to their next entry's flush (cr3-switch). */
  ipisAvoided: number;
  /** ct-work: successful cmpxchg's of CT_WORK_TLBI into a context-tracking word. */
  deferredFlushes: number;
  /** Flushes run at kernel entry by nohz_full CPUs. */
  entryFlushes: number;
  /** Time those flushes added to kernel entries, ns. */
  entryFlushNsTotal: Nanoseconds;
  /** Kernel entries (from user or idle) of nohz_full CPUs. */
  isolatedEntries: number;
  /** ct-work: longest time a CPU held a deferred flush before its entry ran it, ns. */
  maxDeferralNs: Nanoseconds;
  /** cr3-switch: text_poke_bp() sync IPIs (do_sync_core) not sent to nohz_full CPUs in user/idle. */
  textPokeSyncsAvoided: number;
}

/**
 * tlb-defer: flush_tlb_kernel_range() (arch/x86/mm/tlb.c) no longer interrupts a nohz_full CPU in
 * user space or idle. `ct-work` (the 2016 idea; Valentin Schneider, "context_tracking,x86: Defer
 * kernel text patching and TLB flush IPIs" v3): ct_set_cpu_work() cmpxchg's CT_WORK_TLBI into the
 * target's context-tracking word; success means no IPI and a __flush_tlb_all() at the target's next
 * kernel entry, failure (the target is in the kernel) means the IPI as before. `cr3-switch`
 * (Schneider, "context_tracking,x86: Defer some IPIs until a user->kernel transition" v7 2025, v8
 * Mar 2026; pending): no IPI to a nohz_full CPU seen in user/idle, neither for a kernel TLB flush
 * nor for text_poke_bp()'s sync rounds (arch/x86/kernel/alternative.c text_poke_sync()); every
 * kernel entry of such a CPU flushes the kernel TLB right after the switch to the kernel CR3, whose
 * write also serialises it. Needs page-table isolation (`pti`, `pti=on`): a composition error without.
 */
export function tlbDefer(options: TlbDeferOptions = {}): Mechanism {
  const variant = options.variant ?? "ct-work";
  if (!(tlbDeferVariants as readonly string[]).includes(variant)) {
    throw new InputError("tlb-defer.variant", `${JSON.stringify(variant)} is not valid (valid: ${tlbDeferVariants.join(", ")})`);
  }
  checkOptions("tlb-defer", options, tlbDeferOptionLimits);
  const givenStep = options.flushStep;
  const vfreeRcu = options.vfreeRcu ?? false;
  const deferInKernel = options.faults?.deferInKernel ?? false;
  const skipFlush = options.faults?.skipFlush ?? false;
  return {
    name: "tlb-defer",
    description: "kernel TLB flushes skip nohz_full CPUs in user/idle: deferred to their next kernel entry (ct-work) or a flush at every entry (cr3-switch, also text-patching sync IPIs; needs pti)",
    variants: tlbDeferVariants,
    variant,
    options: tlbDeferOptionLimits,
    install(k: Kernel): void {
      // The CR3 switch exists only with page-table isolation (v4.15+): 4.9 has none.
      if (!k.entry.has("cr3_switch")) {
        if (variant === "cr3-switch") {
          throw new CompositionError(
            "tlb-defer.variant",
            `"cr3-switch" needs page-table isolation (a kernel CR3 switch at entry, v4.15+); this kernel has none (pti: false): use "ct-work", or add pti=on to kernel.cmdline (or set kernel.params.pti to true)`,
          );
        }
        if (givenStep === "cr3_switch") {
          throw new CompositionError(
            "tlb-defer.options.flush_step",
            `"cr3_switch" needs page-table isolation (v4.15+); this kernel has none (pti: false, as in linux-4.9) (valid here: ${k.entry.steps.join(", ")})`,
          );
        }
      }
      const flushStep = givenStep ?? tlbDeferDefaultFlushStep(k.params);
      k.invariants.check("tlb-defer-only-user");
      const fig: TlbDeferFigures = {
        flushes: 0,
        ipisSent: 0,
        ipisToIsolated: 0,
        ipisAvoided: 0,
        deferredFlushes: 0,
        entryFlushes: 0,
        entryFlushNsTotal: 0,
        isolatedEntries: 0,
        maxDeferralNs: 0,
        textPokeSyncsAvoided: 0,
      };
      const deferredSince = new Float64Array(k.nrCpus).fill(-1);
      const skip = cr3SwitchSkip(k, deferInKernel);
      const avoid = variant === "ct-work" ? ctWorkDefer(k, deferInKernel) : (_f: KernelFlush, cpu: number): boolean => skip(cpu);
      if (variant === "cr3-switch") {
        // v7/v8 defer the text-patching sync IPIs too: the CR3 write at the next entry serialises
        // the CPU as do_sync_core()'s sync_core() would, so no IPI and no extra entry work.
        setTextPokeSyncPolicy(k, (_from, cpu) => {
          if (!k.cpus[cpu]!.nohzFull || !skip(cpu)) return false;
          if (k.measuring()) fig.textPokeSyncsAvoided++;
          return true;
        });
      }

      k.tlb.flushKernelRange = (f) => {
        const measuring = k.measuring();
        if (measuring) fig.flushes++;
        for (let cpu = 0; cpu < k.nrCpus; cpu++) {
          if (cpu === f.from) continue;
          const isolated = k.cpus[cpu]!.nohzFull;
          if (isolated && avoid(f, cpu)) {
            if (measuring) {
              fig.ipisAvoided++;
              if (variant === "ct-work") fig.deferredFlushes++;
            }
            if (deferredSince[cpu]! < 0) deferredSince[cpu] = k.engine.now;
            continue;
          }
          k.tlb.sendFlushIpi(f, cpu);
          if (measuring) {
            fig.ipisSent++;
            if (isolated) fig.ipisToIsolated++;
          }
        }
        f.localNs += k.tlb.flushLocal(f.from, f);
      };

      const beforeCt = kernelEntrySteps.indexOf(flushStep) < kernelEntrySteps.indexOf("context_tracking");
      const tlbiBit = CT_WORK_TLBI << CT_WORK_SHIFT;
      /** ct_work_flush() at `flushStep`: was CT_WORK_TLBI set? Takes it (from the word itself before the context-tracking step). */
      const takeTlbi = (cpu: number): boolean => {
        if (beforeCt) {
          const c = k.cpus[cpu]!;
          const w = c.ctWord;
          return (w & tlbiBit) !== 0 && c.ctCmpxchg(w, w & ~tlbiBit);
        }
        const work = k.entry.ctWork;
        if ((work[cpu]! & CT_WORK_TLBI) === 0) return false;
        work[cpu] = work[cpu]! & ~CT_WORK_TLBI;
        return true;
      };
      k.entry.on(flushStep, (cpu) => {
        if (!k.cpus[cpu]!.nohzFull) return;
        const measuring = k.measuring();
        if (measuring) fig.isolatedEntries++;
        if (variant === "ct-work" && !takeTlbi(cpu)) return;
        if (skipFlush) return;
        const ns = k.tlb.flushAll(cpu);
        k.entry.charge(cpu, ns);
        const since = deferredSince[cpu]!;
        deferredSince[cpu] = -1;
        if (!measuring) return;
        fig.entryFlushes++;
        fig.entryFlushNsTotal += ns;
        if (variant === "ct-work" && since >= 0 && k.engine.now - since > fig.maxDeferralNs) fig.maxDeferralNs = k.engine.now - since;
      });

      const vfree = vfreeAccounting(k, vfreeRcu);
      const round3 = (x: number): number => Math.round(x * 1000) / 1000;
      k.mechanismStats.set("tlb-defer", () => {
        const measuredS = Math.max(0, k.engine.now - k.warmup) / 1e9;
        const heldMean = vfree.vfrees ? vfree.heldPagesSum / vfree.vfrees : 0;
        return {
          variant,
          flush_step: flushStep,
          vfree_rcu: vfreeRcu,
          flushes: fig.flushes,
          flush_rate_per_s: round3(measuredS > 0 ? fig.flushes / measuredS : 0),
          ipis_sent: fig.ipisSent,
          ipis_to_isolated: fig.ipisToIsolated,
          ipis_avoided: fig.ipisAvoided,
          deferred_flushes: fig.deferredFlushes,
          entry_flushes: fig.entryFlushes,
          entry_flush_ns_total: fig.entryFlushNsTotal,
          isolated_entries: fig.isolatedEntries,
          entry_flush_ns_per_entry: round3(fig.isolatedEntries ? fig.entryFlushNsTotal / fig.isolatedEntries : 0),
          max_deferral_ns: fig.maxDeferralNs,
          text_poke_syncs_avoided: fig.textPokeSyncsAvoided,
          vfrees: vfree.vfrees,
          held_pages_max: vfree.heldPagesMax,
          held_pages_mean: round3(heldMean),
          held_bytes_max: vfree.heldPagesMax * PAGE_BYTES,
          held_bytes_mean: round3(heldMean * PAGE_BYTES),
          rcu_callbacks: vfree.rcuCallbacks,
          gp_wait_ns_max: vfree.gpWaitNsMax,
          gp_wait_ns_mean: round3(vfree.rcuCallbacks ? vfree.gpWaitNsSum / vfree.rcuCallbacks : 0),
        };
      });
    },
  };
}

/**
 * ct-work's choice per target (ct_set_cpu_work(), Schneider v3): KernelTlb.deferFlush() cmpxchg's
 * CT_WORK_TLBI into the word when it shows user or idle; the `deferInKernel` fault sets it anyway.
 */
function ctWorkDefer(k: Kernel, deferInKernel: boolean): (f: KernelFlush, cpu: number) => boolean {
  return (f, cpu) => {
    if (k.tlb.deferFlush(f, cpu)) return true;
    if (!deferInKernel) return false;
    const c = k.cpus[cpu]!;
    const old = c.ctWord;
    if (!c.ctCmpxchg(old, old | (CT_WORK_TLBI << CT_WORK_SHIFT))) return false;
    checkTlbDeferOnlyUser(k, cpu, old);
    f.deferred.push(cpu);
    k.tlb.stats.deferred++;
    return true;
  };
}

/**
 * cr3-switch's choice per target (Schneider v7/v8): no IPI when the context-tracking state reads
 * user or idle, since the CPU flushes (and serialises) at its next CR3 switch anyway; the
 * `deferInKernel` fault skips CPUs in the kernel too.
 */
function cr3SwitchSkip(k: Kernel, deferInKernel: boolean): (cpu: number) => boolean {
  return (cpu) => {
    const c = k.cpus[cpu]!;
    if (!c.inEqs() && !deferInKernel) return false;
    checkTlbDeferOnlyUser(k, cpu, c.ctWord);
    return true;
  };
}

/** {@link tlbDefer} from a scenario entry's options (snake_case `flush_step`, `vfree_rcu`), validated. */
export function tlbDeferFromFile(o: TlbDeferFileOptions = {}): Mechanism {
  const opts: TlbDeferOptions = {};
  if (o.variant !== undefined) opts.variant = o.variant as TlbDeferVariant;
  if (o.flush_step !== undefined) opts.flushStep = o.flush_step as KernelEntryStep;
  if (o.vfree_rcu !== undefined) opts.vfreeRcu = o.vfree_rcu as boolean;
  try {
    return tlbDefer(opts);
  } catch (e) {
    // Name the option as the file spells it.
    if (e instanceof InputError && e.field === "tlb-defer.options.flushStep") throw new InputError("tlb-defer.options.flush_step", e.message.slice(e.field.length + 2));
    if (e instanceof InputError && e.field === "tlb-defer.options.vfreeRcu") throw new InputError("tlb-defer.options.vfree_rcu", e.message.slice(e.field.length + 2));
    throw e;
  }
}
