import { Context, costLimit, resolveFigures, segment } from "@isolsim/core";
import type { Kernel, Limit, Mechanism, Nanoseconds, Task } from "@isolsim/core";

/** The variants of vmstat-quiesce, the default first. */
export const vmstatQuiesceVariants = ["fold-on-exit", "shepherd-skip"] as const;

/** One of {@link vmstatQuiesceVariants}. */
export type VmstatQuiesceVariant = (typeof vmstatQuiesceVariants)[number];

/** Deliberate faults, for tests of the model's atomic-context guard and the mutation check only (scenario files cannot set them). */
export interface VmstatQuiesceFaults {
  /** fold-on-exit uses cancel_delayed_work_sync(), which may sleep, with interrupts disabled. */
  syncCancel?: boolean;
  /** fold-on-exit's fold clears each per-CPU diff (this_cpu_xchg(diff, 0)) but drops the value instead of adding it to the global counter. */
  foldDropsDiffs?: boolean;
  /** fold-on-exit's fold adds each per-CPU diff to the global counter but leaves the diff in place (a read where this_cpu_xchg() belongs). */
  foldKeepsDiffs?: boolean;
  /** fold-on-exit cancels the pending vmstat_update without folding the diffs first. */
  cancelWithoutFold?: boolean;
}

/** Options of {@link vmstatQuiesce}; defaults in {@link vmstatQuiesceDefaults}. */
export interface VmstatQuiesceOptions {
  /** `fold-on-exit` (2016 / Tosatti 2021-22: fold and cancel before return to user) or `shepherd-skip` (mainline v6.5). */
  variant?: VmstatQuiesceVariant;
  /** fold-on-exit: the exit path's test of the CPU's vmstat state and refresh_cpu_vm_stats() entry, when it has work, ns. */
  foldBaseNs?: number;
  /** fold-on-exit: folding one non-zero per-CPU diff into the global counter (an atomic add on a shared line), ns. */
  foldItemNs?: number;
  /** fold-on-exit: cancel_delayed_work() of a pending vmstat_update (try_to_grab_pending(), del_timer()), ns. */
  cancelNs?: number;
  /** Deliberate faults (tests of the guard and the mutation check only). */
  faults?: VmstatQuiesceFaults;
}

/** The figures of {@link VmstatQuiesceOptions}, resolved. */
export type VmstatQuiesceFigures = Required<Omit<VmstatQuiesceOptions, "variant" | "faults">>;

/** Default figures of {@link VmstatQuiesceOptions}. */
export const vmstatQuiesceDefaults: Readonly<VmstatQuiesceFigures> = Object.freeze({
  foldBaseNs: 40,
  foldItemNs: 30,
  cancelNs: 100,
});

/** The valid range of each option of {@link VmstatQuiesceOptions}, with why (the limits table's rows for vmstat-quiesce). */
export const vmstatQuiesceOptionLimits: Readonly<Record<keyof VmstatQuiesceFigures, Limit>> = Object.freeze({
  foldBaseNs: costLimit(),
  foldItemNs: costLimit(),
  cancelNs: costLimit(),
});

function resolveOptions(options: VmstatQuiesceOptions): VmstatQuiesceFigures {
  return resolveFigures("vmstat-quiesce", options, vmstatQuiesceDefaults, vmstatQuiesceOptionLimits);
}

/**
 * cancel_delayed_work_sync() (kernel/workqueue.c): cancels `cpu`'s vmstat_update and waits for a
 * running instance (flush_work()); it may sleep, so the model refuses it with interrupts disabled.
 */
export function cancelVmstatWorkSync(k: Kernel, cpu: number, waiter: Task): void {
  k.vmstat.cancelVmstatWork(cpu);
  k.workqueue.flushWork(k.vmstat.work[cpu]!, waiter, () => undefined);
}

/** Installs `fold-on-exit`. */
function installFoldOnExit(k: Kernel, f: VmstatQuiesceFigures, faults: VmstatQuiesceFaults): void {
  const fig = { quiesces: 0, folds: 0, itemsFolded: 0, cancels: 0, costNsTotal: 0, costNsMax: 0 };
  k.hooks.exitToUserMode.push((cpu, task) => {
    const c = k.cpus[cpu]!;
    if (!c.nohzFull) return;
    // Work queued before the exit (another mechanism's) may still dirty the diffs: fold after it.
    if (task.segs.length === 0 && !hasDiffs(k, cpu) && !k.vmstat.work[cpu]!.pending) return;
    const own = c.noiseSince < 0;
    const seg = segment("quiet_vmstat", 0, Context.kernel, {
      own,
      start: () => {
        c.irqsDisabled++;
        const changes = faults.cancelWithoutFold || !hasDiffs(k, cpu) ? 0 : foldOnExit(k, cpu, faults);
        const cancelled = faults.syncCancel ? (cancelVmstatWorkSync(k, cpu, task), true) : k.vmstat.cancelVmstatWork(cpu);
        c.irqsDisabled--;
        if (changes === 0 && !cancelled) return;
        // The fold's cost is known once it has run: the segment lasts that long (kernel time on the exit path).
        const ns: Nanoseconds = f.foldBaseNs + changes * f.foldItemNs + (cancelled ? f.cancelNs : 0);
        seg.ns = ns;
        if (!k.measuring()) return;
        fig.quiesces++;
        if (changes > 0) fig.folds++;
        fig.itemsFolded += changes;
        if (cancelled) fig.cancels++;
        fig.costNsTotal += ns;
        if (ns > fig.costNsMax) fig.costNsMax = ns;
      },
    });
    task.segs.push(seg);
  });
  k.mechanismStats.set("vmstat-quiesce", () => ({
    variant: "fold-on-exit",
    quiesces: fig.quiesces,
    folds: fig.folds,
    items_folded: fig.itemsFolded,
    cancels: fig.cancels,
    exit_cost_ns_total: fig.costNsTotal,
    exit_cost_ns_mean: fig.quiesces > 0 ? Math.round(fig.costNsTotal / fig.quiesces) : 0,
    exit_cost_ns_max: fig.costNsMax,
  }));
}

/**
 * refresh_cpu_vm_stats() on the exit path; the fold faults replace its body (core's `vmstat.foldCpu`)
 * for this one call, so the core's vmstat-exact check after a fold judges what they did.
 */
function foldOnExit(k: Kernel, cpu: number, faults: VmstatQuiesceFaults): number {
  if (!faults.foldDropsDiffs && !faults.foldKeepsDiffs) return k.vmstat.refreshCpuVmStats(cpu);
  const vm = k.vmstat;
  const fold = vm.foldCpu;
  const n = vm.truth.length;
  vm.foldCpu = (c) => {
    let changes = 0;
    for (let i = 0; i < n; i++) {
      const at = c * n + i;
      const v = vm.diffs[at]!;
      if (v === 0) continue;
      if (faults.foldDropsDiffs) vm.diffs[at] = 0;
      else vm.global[i] = vm.global[i]! + v;
      changes++;
    }
    return changes;
  };
  try {
    return vm.refreshCpuVmStats(cpu);
  } finally {
    vm.foldCpu = fold;
  }
}

/** Whether any per-CPU diff of `cpu` is non-zero (zone and node items: what refresh_cpu_vm_stats() folds). */
function hasDiffs(k: Kernel, cpu: number): boolean {
  const n = k.vmstat.truth.length;
  for (let i = 0; i < n; i++) if (k.vmstat.diff(cpu, i) !== 0) return true;
  return false;
}

/** Largest |global − true total| over the modelled items now. */
function globalError(k: Kernel): number {
  const vm = k.vmstat;
  let worst = 0;
  for (let i = 0; i < vm.truth.length; i++) {
    const e = Math.abs(vm.global[i]! - vm.truth[i]!);
    if (e > worst) worst = e;
  }
  return worst;
}

/** Installs `shepherd-skip`. */
function installShepherdSkip(k: Kernel): void {
  const isolated = (cpu: number): boolean => !k.hk.byType.domain.has(cpu) || !k.hk.byType.tick.has(cpu);
  k.vmstat.shepherdSkips = isolated;
  const threshold = k.vmstat.threshold;
  const bound = k.nrCpus * threshold;
  let maxError = 0;
  let violated = false;
  const sample = (): void => {
    const e = globalError(k);
    k.invariants.evaluate("vmstat-threshold");
    if (k.measuring() && e > maxError) maxError = e;
    if (e > bound && !violated) {
      violated = true;
      k.invariants.violate("vmstat-threshold", -1, `global vmstat error ${e} pages exceeds nr_cpus × threshold = ${k.nrCpus} × ${threshold} = ${bound}`);
    }
  };
  k.invariants.check("vmstat-threshold");
  k.hooks.exitToUserMode.push(sample);
  k.hooks.tick.push(sample);
  k.hooks.finish.push(sample);
  k.mechanismStats.set("vmstat-quiesce", () => ({
    variant: "shepherd-skip",
    skipped_cpus: k.nohzFull.toArray().filter(isolated).length,
    max_global_error: maxError,
    error_bound: bound,
  }));
}

/**
 * vmstat-quiesce: no vmstat_update kworker on isolated CPUs. `fold-on-exit` (default; the 2016 idea,
 * Marcelo Tosatti's 2021-22 "quiesce vmstat on return to userspace" series): before a nohz_full CPU
 * returns to user, with interrupts disabled, fold its per-CPU diffs (refresh_cpu_vm_stats()) and
 * cancel its pending vmstat_update (cancel_delayed_work(), never the _sync form, which may sleep).
 * `shepherd-skip` (mainline v6.5, "mm/vmstat: do not refresh stats for nohz_full CPUs"):
 * vmstat_shepherd skips cpu_is_isolated() CPUs and the global counters stay imprecise, within
 * nr_cpus × threshold. On a kernel that skips them already (v6.5+: core's `vmstat.shepherdSkips`
 * policy set by the kernel, which fold-on-exit leaves as it is), fold-on-exit still adds exactness:
 * an isolated CPU's diffs are in the global counters whenever it runs in user.
 */
export function vmstatQuiesce(options: VmstatQuiesceOptions = {}): Mechanism {
  const variant = options.variant ?? "fold-on-exit";
  const f = resolveOptions(options);
  const faults = options.faults ?? {};
  return {
    name: "vmstat-quiesce",
    description: "fold and cancel an isolated CPU's vmstat work before it returns to user (or let the shepherd skip it): no vmstat_update kworker there",
    variants: vmstatQuiesceVariants,
    variant,
    options: vmstatQuiesceOptionLimits,
    install(k: Kernel): void {
      if (variant === "shepherd-skip") installShepherdSkip(k);
      else installFoldOnExit(k, f, faults);
    },
  };
}
