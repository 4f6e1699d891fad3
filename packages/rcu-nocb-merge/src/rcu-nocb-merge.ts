import { InputError, MAX_CPUS, booleanLimit, checkOptions, integerLimit } from "@isolsim/core";
import type { Kernel, Limit, Mechanism } from "@isolsim/core";
import { gpGroupsNocbLayout, mergedNocbLayout } from "./layouts.js";
import { observeNocb } from "./observe.js";

/** The variants of rcu-nocb-merge, the default first. */
export const rcuNocbMergeVariants = ["merged", "gp-groups"] as const;

/** One of {@link rcuNocbMergeVariants}: `merged` (2016 idea, v4.20) or `gp-groups` (v5.4 rcuog). */
export type RcuNocbMergeVariant = (typeof rcuNocbMergeVariants)[number];

/** Deliberate faults, for the mutation check only (scenario files cannot set them). */
export interface RcuNocbMergeFaults {
  /** The merged rcuo kthread's rcu_do_batch() advances past a batch's first callback without invoking it (the callback is lost). */
  dropCallback?: boolean;
  /** The merged rcuo kthread's rcu_do_batch() invokes a batch's first callback, then invokes it again (the list head not yet advanced). */
  invokeTwice?: boolean;
}

/** Options of {@link rcuNocbMerge}. */
export interface RcuNocbMergeOptions {
  /** Which layout (default `merged`). */
  variant?: RcuNocbMergeVariant;
  /** `gp-groups` only: the rcu_nocb_gp_stride boot parameter (default nr_cpu_ids / int_sqrt(nr_cpu_ids)). */
  gpStride?: number;
  /** `gp-groups` only: 6.1's spawning of rcuop/N (and its rcuog) for every CPU, offloaded or not (default false: v5.4). */
  allCpus?: boolean;
  /** Deliberate faults (the mutation check only). */
  faults?: RcuNocbMergeFaults;
}

/** The valid values of each option of {@link RcuNocbMergeOptions}, with why (the limits table's rows for rcu-nocb-merge). */
export const rcuNocbMergeOptionLimits: Readonly<Record<"gpStride" | "allCpus", Limit>> = Object.freeze({
  gpStride: integerLimit(1, MAX_CPUS, "rcu_nocb_gp_stride: CPUs per rcuog group, at least 1, at most the largest machine"),
  allCpus: booleanLimit("a kernel version difference: 6.1 spawns rcuop/N for every CPU, v5.4 for offloaded ones"),
});

/**
 * rcu-nocb-merge: one callback kthread per offloaded CPU for all RCU flavours instead of 4.9's one per
 * flavour (rcu_spawn_all_nocb_kthreads() → for_each_rcu_flavor()). `merged` is the 2016 proposal as
 * mainline v4.20 shipped it (rcuo<abbr>/N, 4.9's leader/follower wakeups); `gp-groups` is v5.4's
 * rcu_organize_nocb_kthreads(): an rcuog/N grace-period kthread per rcu_nocb_gp_stride CPUs waking
 * per-CPU rcuop/N callback kthreads. It replaces `kernel.rcu.nocbLayout` and reports what changed.
 */
export function rcuNocbMerge(options: RcuNocbMergeOptions = {}): Mechanism {
  const variant = options.variant ?? "merged";
  checkOptions("rcu-nocb-merge", options, rcuNocbMergeOptionLimits);
  const { gpStride, allCpus } = options;
  if (variant !== "gp-groups" && (gpStride !== undefined || allCpus !== undefined)) {
    throw new InputError(
      gpStride !== undefined ? "rcu-nocb-merge.options.gpStride" : "rcu-nocb-merge.options.allCpus",
      `applies only to variant "gp-groups" (variant is ${JSON.stringify(variant)})`,
    );
  }
  return {
    name: "rcu-nocb-merge",
    description: "one rcuo callback kthread per offloaded CPU for all RCU flavours (merged, v4.20) or rcuog grace-period groups (gp-groups, v5.4)",
    variants: rcuNocbMergeVariants,
    variant,
    options: rcuNocbMergeOptionLimits,
    install(k: Kernel): void {
      const groups: { gpStride?: number; allCpus?: boolean } = {};
      if (gpStride !== undefined) groups.gpStride = gpStride;
      if (allCpus !== undefined) groups.allCpus = allCpus;
      k.rcu.nocbLayout = variant === "gp-groups" ? gpGroupsNocbLayout(groups) : mergedNocbLayout;
      if (options.faults?.dropCallback || options.faults?.invokeTwice) breakRcuDoBatch(k, options.faults);
      const figures = observeNocb(k);
      k.mechanismStats.set("rcu-nocb-merge", () => ({ variant, ...figures() }));
    },
  };
}

/**
 * The faults of {@link RcuNocbMergeFaults}: __rcu_reclaim() of the first callback of each batch an
 * rcuo callback kthread invokes (rcu_nocb_kthread() → rcu_do_batch(); a batch is what one kthread
 * invokes at one instant) is skipped or run twice. Callbacks of CPUs that are not offloaded, invoked
 * by the RCU softirq, are untouched.
 */
function breakRcuDoBatch(k: Kernel, faults: RcuNocbMergeFaults): void {
  const rcu = k.rcu;
  const invoke = rcu.invokeCallback.bind(rcu);
  let batchAt = -1;
  let batchBy: unknown = null;
  rcu.invokeCallback = (cb) => {
    const by = k.cpus[k.executingCpu]?.curr ?? null;
    const first = by !== null && by.role === "rcu_callback" && (batchAt !== k.engine.now || batchBy !== by);
    if (by !== null && by.role === "rcu_callback") {
      batchAt = k.engine.now;
      batchBy = by;
    }
    if (first && faults.dropCallback) return;
    invoke(cb);
    if (first && faults.invokeTwice) invoke(cb);
  };
}
