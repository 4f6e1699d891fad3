import type { Nanoseconds } from "../../engine/engine.js";
import type { Kernel } from "../../kernel.js";
import { Context, segment } from "../../machine/cpu.js";
import type { Segment } from "../../machine/cpu.js";
import type { Task } from "../../sched/task.js";

/**
 * on_each_cpu(do_sync_core, NULL, 1) rounds of one text_poke_bp() of a multi-byte instruction
 * (4.9 arch/x86/kernel/alternative.c text_poke_bp(), lines 773-812): after the int3 is written, after
 * the tail bytes, after the first byte.
 */
export const TEXT_POKE_BP_SYNC_ROUNDS = 3;

/** Counters of text patching over the whole run (tests, statistics). */
export interface TextPokeStats {
  /** text_poke_bp() calls. */
  pokes: number;
  /** do_sync_core IPIs sent (ipi_call_function on the targets). */
  syncIpis: number;
  /** Sync IPIs a {@link TextPokeSyncPolicy} left out (the target catches up at its next kernel entry). */
  syncDeferred: number;
}

/**
 * Whether text_poke_bp()'s sync round may leave `cpu` out (true: no IPI; the CPU serialises at its
 * next kernel entry instead, as Schneider's "context_tracking,x86: Defer some IPIs until a
 * user->kernel transition" v7/v8 does for CPUs in user or idle). Installed by a mechanism.
 */
export type TextPokeSyncPolicy = (from: number, cpu: number) => boolean;

/** Per-kernel sync policies (none: every other online CPU gets the IPI, as 4.9-6.12 do). */
const policyOf = new WeakMap<Kernel, TextPokeSyncPolicy>();

/** Installs the policy that decides which CPUs text_poke_bp()'s sync rounds leave out (tlb-defer cr3-switch). */
export function setTextPokeSyncPolicy(k: Kernel, policy: TextPokeSyncPolicy): void {
  policyOf.set(k, policy);
}

/** One on_each_cpu() round the caller waits for (csd_lock_wait() of each csd). */
interface SyncRound {
  /** IPIs sent whose handler has not started. */
  unstarted: number;
  /** When the last started handler completes, ns. */
  doneAt: Nanoseconds;
}

/** Per-kernel counters of {@link textPokeBp}. */
const statsOf = new WeakMap<Kernel, TextPokeStats>();

/** The text-patching counters of `k` (zero until its first text_poke_bp()). */
export function textPokeStats(k: Kernel): TextPokeStats {
  let s = statsOf.get(k);
  if (!s) statsOf.set(k, (s = { pokes: 0, syncIpis: 0, syncDeferred: 0 }));
  return s;
}

/**
 * text_poke_bp() run by `task` (4.9 arch/x86/kernel/alternative.c): the kernel work it adds to the
 * task, as segments to put at the head of its queue. Each of the {@link TEXT_POKE_BP_SYNC_ROUNDS}
 * rounds is text_poke() of some bytes, then on_each_cpu(do_sync_core, NULL, 1): a call-function IPI
 * to every other online CPU, whatever it runs (smp_call_function_many(), counted as
 * `ipi_call_function`; do_sync_core() is sync_core(), a serialising CPUID), the local call, and the
 * wait until every target ran it (wait = 1: csd_lock_wait()).
 */
export function textPokeBp(k: Kernel, task: Task, name = "text_poke_bp"): Segment[] {
  const segs: Segment[] = [];
  const stats = textPokeStats(k);
  const skip = policyOf.get(k);
  for (let r = 0; r < TEXT_POKE_BP_SYNC_ROUNDS; r++) {
    const round: SyncRound = { unstarted: 0, doneAt: 0 };
    const cost = k.params.ipiHandlerNs;
    const handler = (): void => {
      round.unstarted--;
      round.doneAt = Math.max(round.doneAt, k.engine.now + cost);
    };
    segs.push(
      segment(r === 0 ? name : "text_poke", k.params.ipiHandlerNs, Context.kernel, {
        start: () => {
          const from = k.executingCpu;
          if (r === 0) stats.pokes++;
          round.doneAt = k.engine.now;
          for (let cpu = 0; cpu < k.nrCpus; cpu++) {
            if (cpu === from) continue;
            if (skip?.(from, cpu)) {
              stats.syncDeferred++;
              continue;
            }
            round.unstarted++;
            stats.syncIpis++;
            k.irq.sendIpi(from, cpu, "ipi_call_function", "do_sync_core", cost, handler);
          }
        },
      }),
      syncWait(k, task, round),
    );
  }
  return segs;
}

/** csd_lock_wait() of one on_each_cpu() round: the caller spins until every target's handler ran to its end. */
function syncWait(k: Kernel, task: Task, round: SyncRound): Segment {
  const ns = round.unstarted === 0 ? Math.max(0, round.doneAt - k.engine.now) : k.params.ipiLatencyNs;
  return segment("csd_lock_wait", ns, Context.kernel, {
    end: () => {
      if (round.unstarted > 0 || k.engine.now < round.doneAt) task.segs.unshift(syncWait(k, task, round));
    },
  });
}
