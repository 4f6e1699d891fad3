import type { Kernel } from "../kernel.js";
import { onSyscall } from "../workload/workload.js";
import type { DelayedWork, WorkqueueStruct } from "../workqueue/workqueue.js";
import { WORK_CPU_UNBOUND } from "../workqueue/workqueue.js";

/**
 * The vmstat items modelled: zone items (enum zone_stat_item) then node items (enum node_stat_item,
 * per-node since v4.8), as include/linux/mmzone.h names them.
 */
export const vmItems = [
  "NR_FREE_PAGES",
  "NR_ZONE_INACTIVE_FILE",
  "NR_ZONE_ACTIVE_ANON",
  "NR_ZONE_UNEVICTABLE",
  "NR_ZONE_WRITE_PENDING",
  "NR_MLOCK",
  "NR_INACTIVE_FILE",
  "NR_ACTIVE_ANON",
  "NR_UNEVICTABLE",
  "NR_ANON_MAPPED",
  "NR_FILE_PAGES",
  "NR_FILE_DIRTY",
  "NR_DIRTIED",
] as const;

/** One modelled vmstat item name. */
export type VmItemName = (typeof vmItems)[number];

/** Index of each vmstat item in per-CPU diff arrays. */
export const VmItem: { readonly [K in VmItemName]: number } = Object.freeze(
  Object.fromEntries(vmItems.map((n, i) => [n, i])) as { [K in VmItemName]: number },
);

/** Number of zone items: items below this index are zone_stat_item, the rest node_stat_item. */
export const NR_VM_ZONE_ITEMS = 6;

/** fls(): position of the most significant set bit, 1-based; fls(0) = 0 (include/asm-generic/bitops/fls.h). */
export function fls(x: number): number {
  return x <= 0 ? 0 : Math.floor(Math.log2(x)) + 1;
}

/**
 * calculate_normal_threshold() (mm/vmstat.c): min(125, 2 * fls(online cpus) * (1 + fls(managed MiB / 128))).
 */
export function calculateNormalThreshold(onlineCpus: number, managedMb: number): number {
  const mem = Math.floor(managedMb / 128);
  return Math.min(125, 2 * fls(onlineCpus) * (1 + fls(mem)));
}

/**
 * round_jiffies_relative() (kernel/time/timer.c round_jiffies_common()): rounds `delay` ns so the
 * expiry lands on a whole second of jiffies, skewed by 3 jiffies per CPU; down if within HZ/4.
 */
export function roundJiffiesRelative(k: Kernel, delay: number, cpu: number): number {
  const p = k.tickPeriod;
  const hz = k.params.hz;
  const j0 = Math.floor(k.engine.now / p);
  const original = j0 + Math.ceil(delay / p);
  let j = original + cpu * 3;
  const rem = j % hz;
  j = rem < Math.floor(hz / 4) ? j - rem : j - rem + hz;
  j -= cpu * 3;
  const out = j > j0 ? j : original;
  return (out - j0) * p;
}

/**
 * Per-CPU vm statistics (mm/vmstat.c): signed per-CPU diffs folded into global counters past a
 * threshold, vmstat_update deferrable delayed work on each CPU, vmstat_shepherd on a housekeeping
 * CPU, quiet_vmstat(); and the vmstat-exact / vmstat-threshold invariants checked at every update.
 */
export class Vmstat {
  /** Global counters (zone->vm_stat / pgdat->vm_stat). */
  readonly global: Float64Array;
  /** Per-CPU diffs (vm_stat_diff), index cpu * items + item. */
  readonly diffs: Int32Array;
  /** The true totals: every update applied at once (what the invariant compares against). */
  readonly truth: Float64Array;
  /** stat_threshold of every CPU (one zone, one node; refresh_zone_stat_thresholds()). */
  threshold: number;
  /** Per-CPU vmstat_work (INIT_DEFERRABLE_WORK(vmstat_update)). */
  readonly work: DelayedWork[];
  /** The shepherd (DECLARE_DEFERRABLE_WORK(shepherd, vmstat_shepherd)). */
  readonly shepherd: DelayedWork;
  /** vmstat_wq (4.9: alloc_workqueue("vmstat", WQ_FREEZABLE|WQ_MEM_RECLAIM)). */
  readonly wq: WorkqueueStruct;
  /**
   * Policy: whether vmstat_shepherd skips `cpu` (mainline v6.5 skips cpu_is_isolated() CPUs); the
   * vmstat-quiesce mechanism's shepherd-skip variant replaces it. Default: skip none.
   */
  shepherdSkips: (cpu: number) => boolean = () => false;
  /**
   * Fold primitive: moves every non-zero diff of `cpu` into the global counters and returns how many
   * it moved (the body of refresh_cpu_vm_stats() / cpu_vm_stats_fold()). Replaceable for tests.
   */
  foldCpu: (cpu: number) => number;
  /** vmstat_update runs that found changes and re-armed, in the measured window. */
  updatesRearmed = 0;
  private readonly n = vmItems.length;
  private readonly seen: Int32Array;
  private readonly seenSum: Float64Array;
  private readonly drift: Float64Array;
  private readonly expectedThreshold: number;

  constructor(private readonly k: Kernel) {
    const n = this.n;
    this.global = new Float64Array(n);
    this.truth = new Float64Array(n);
    const freePages = k.params.vmstatManagedMb * 256;
    this.global[VmItem.NR_FREE_PAGES] = freePages;
    this.truth[VmItem.NR_FREE_PAGES] = freePages;
    this.diffs = new Int32Array(k.nrCpus * n);
    this.seen = new Int32Array(k.nrCpus * n);
    this.seenSum = new Float64Array(n);
    this.drift = new Float64Array(n);
    this.threshold = calculateNormalThreshold(k.nrCpus, k.params.vmstatManagedMb);
    this.expectedThreshold = this.threshold;
    const wqs = k.workqueue;
    this.wq = wqs.allocWorkqueue("vmstat", { memReclaim: true });
    const update = (cpu: number): void => this.vmstatUpdate(cpu);
    this.work = Array.from({ length: k.nrCpus }, () => wqs.initDelayedWork("vmstat_update", update, "kworker_vmstat", k.params.kworkerWorkNs, true));
    this.shepherd = wqs.initDelayedWork("vmstat_shepherd", () => this.vmstatShepherd(), "kworker_other", k.params.kworkerWorkNs, true);
    this.foldCpu = (cpu) => {
      let changes = 0;
      for (let i = 0; i < n; i++) {
        const at = cpu * n + i;
        const v = this.diffs[at]!;
        if (v === 0) continue;
        this.diffs[at] = 0;
        this.global[i] = this.global[i]! + v;
        changes++;
      }
      return changes;
    };
    k.invariants.check("vmstat-exact");
    k.invariants.check("vmstat-threshold");
    k.hooks.boot.push(() => this.startShepherdTimer());
    k.hooks.tickStopped.push((cpu) => {
      if (k.params.vmstatQuietAtTickStop) this.quietVmstat(cpu);
    });
    k.hooks.idleEnter.push((cpu) => this.quietVmstat(cpu));
    k.invariants.atEnd.push(() => this.checkAll());
    onSyscall(k, "file-write", (cpu, _task, pages) => {
      for (let i = 0; i < pages; i++) this.pageCacheWrite(cpu);
    });
    onSyscall(k, "page-fault", (cpu, _task, pages) => {
      for (let i = 0; i < pages; i++) this.anonFault(cpu);
    });
    onSyscall(k, "mlock", (cpu, _task, pages) => {
      for (let i = 0; i < pages; i++) this.anonFault(cpu);
    });
  }

  /** Diff of `item` on `cpu`. */
  diff(cpu: number, item: number): number {
    return this.diffs[cpu * this.n + item]!;
  }

  /** global_page_state() + Σ per-CPU diffs (zone_page_state_snapshot()), the exact value. */
  snapshot(item: number): number {
    let s = this.global[item]!;
    for (let cpu = 0; cpu < this.k.nrCpus; cpu++) s += this.diffs[cpu * this.n + item]!;
    return s;
  }

  /** __mod_zone_page_state() / __mod_node_page_state() on `cpu`: fold the whole diff past ±threshold, leaving 0. */
  modState(cpu: number, item: number, delta: number): void {
    this.truth[item] = this.truth[item]! + delta;
    const at = cpu * this.n + item;
    let x = delta + this.diffs[at]!;
    const t = this.threshold;
    if (x > t || x < -t) {
      this.global[item] = this.global[item]! + x;
      x = 0;
    }
    this.diffs[at] = x;
    this.check(cpu, item);
  }

  /** __inc_zone_state() / __inc_node_state() on `cpu`: past the threshold, fold and leave -threshold/2 (overstep). */
  incState(cpu: number, item: number): void {
    this.truth[item] = this.truth[item]! + 1;
    const at = cpu * this.n + item;
    const v = this.diffs[at]! + 1;
    const t = this.threshold;
    if (v > t) {
      const overstep = t >> 1;
      this.global[item] = this.global[item]! + v + overstep;
      this.diffs[at] = -overstep;
    } else this.diffs[at] = v;
    this.check(cpu, item);
  }

  /** __dec_zone_state() / __dec_node_state() on `cpu`: past -threshold, fold and leave +threshold/2. */
  decState(cpu: number, item: number): void {
    this.truth[item] = this.truth[item]! - 1;
    const at = cpu * this.n + item;
    const v = this.diffs[at]! - 1;
    const t = this.threshold;
    if (v < -t) {
      const overstep = t >> 1;
      this.global[item] = this.global[item]! + v - overstep;
      this.diffs[at] = overstep;
    } else this.diffs[at] = v;
    this.check(cpu, item);
  }

  /** need_update() (mm/vmstat.c): any non-zero zone diff of `cpu` (and node diffs when the param says so). */
  needUpdate(cpu: number): boolean {
    const upto = this.k.params.vmstatNeedUpdateNodes ? this.n : NR_VM_ZONE_ITEMS;
    const base = cpu * this.n;
    for (let i = 0; i < upto; i++) if (this.diffs[base + i] !== 0) return true;
    return false;
  }

  /** refresh_cpu_vm_stats() run on `cpu`: fold its diffs; returns the number of counters changed. */
  refreshCpuVmStats(cpu: number): number {
    const changes = this.foldCpu(cpu);
    this.checkFolded(cpu);
    return changes;
  }

  /** cpu_vm_stats_fold(): fold the diffs of `cpu` from another CPU (the vmstat-quiesce remote variant). */
  cpuVmStatsFold(cpu: number): number {
    return this.refreshCpuVmStats(cpu);
  }

  /** vmstat_update(): fold; if anything changed, re-arm round_jiffies_relative(sysctl_stat_interval) later. */
  private vmstatUpdate(cpu: number): void {
    const k = this.k;
    if (this.refreshCpuVmStats(cpu) > 0) {
      if (k.measuring()) this.updatesRearmed++;
      k.workqueue.queueDelayedWorkOn(cpu, this.wq, this.work[cpu]!, roundJiffiesRelative(k, k.params.vmstatIntervalNs, cpu));
    }
  }

  /** vmstat_shepherd(): queue vmstat_update (delay 0) on CPUs with need_update() and no pending work; re-arm. */
  private vmstatShepherd(): void {
    const k = this.k;
    for (let cpu = 0; cpu < k.nrCpus; cpu++) {
      const dw = this.work[cpu]!;
      if (this.shepherdSkips(cpu)) continue;
      if (!dw.pending && this.needUpdate(cpu)) k.workqueue.queueDelayedWorkOn(cpu, this.wq, dw, 0);
    }
    const here = k.executingCpu;
    k.workqueue.queueDelayedWorkOn(WORK_CPU_UNBOUND, k.workqueue.systemWq, this.shepherd, roundJiffiesRelative(k, k.params.vmstatIntervalNs, here));
  }

  /** start_shepherd_timer(): schedule_delayed_work(&shepherd, round_jiffies_relative(sysctl_stat_interval)) from the boot CPU. */
  private startShepherdTimer(): void {
    const k = this.k;
    const prev = k.executingCpu;
    k.executingCpu = k.bootCpu;
    k.workqueue.queueDelayedWorkOn(WORK_CPU_UNBOUND, k.workqueue.systemWq, this.shepherd, roundJiffiesRelative(k, k.params.vmstatIntervalNs, k.bootCpu));
    k.executingCpu = prev;
  }

  /** quiet_vmstat() on `cpu`: fold only if vmstat_work is pending and need_update(); never cancels the work. */
  quietVmstat(cpu: number): void {
    if (!this.work[cpu]!.pending) return;
    if (!this.needUpdate(cpu)) return;
    this.refreshCpuVmStats(cpu);
  }

  /** cancel_delayed_work(this_cpu_ptr(&vmstat_work)): for the vmstat-quiesce mechanism (fold + cancel on exit to user). */
  cancelVmstatWork(cpu: number): boolean {
    return this.k.workqueue.cancelDelayedWork(this.work[cpu]!);
  }

  /** A page-cache page allocated, added and dirtied by a write on `cpu` (add_to_page_cache_lru(), account_page_dirtied()). */
  private pageCacheWrite(cpu: number): void {
    this.modState(cpu, VmItem.NR_FREE_PAGES, -1);
    this.incState(cpu, VmItem.NR_FILE_PAGES);
    this.incState(cpu, VmItem.NR_FILE_DIRTY);
    this.incState(cpu, VmItem.NR_ZONE_WRITE_PENDING);
    this.incState(cpu, VmItem.NR_DIRTIED);
  }

  /** An anonymous page faulted in on `cpu` (rmqueue(), page_add_new_anon_rmap()). */
  private anonFault(cpu: number): void {
    this.modState(cpu, VmItem.NR_FREE_PAGES, -1);
    this.incState(cpu, VmItem.NR_ANON_MAPPED);
  }

  /** vmstat-exact and vmstat-threshold after an update of `item` on `cpu`. */
  private check(cpu: number, item: number): void {
    const at = cpu * this.n + item;
    const d = this.diffs[at]!;
    this.seenSum[item] = this.seenSum[item]! + d - this.seen[at]!;
    this.seen[at] = d;
    const t = this.expectedThreshold;
    this.k.invariants.evaluate("vmstat-threshold");
    if (d > t || d < -t) {
      this.k.invariants.violate("vmstat-threshold", cpu, `${vmItems[item]} diff ${d} on CPU ${cpu} exceeds calculate_normal_threshold() = ${t}`);
    }
    this.checkExact(cpu, item);
  }

  private checkExact(cpu: number, item: number): void {
    this.k.invariants.evaluate("vmstat-exact");
    const sum = this.global[item]! + this.seenSum[item]!;
    const truth = this.truth[item]!;
    if (sum + this.drift[item]! !== truth) {
      this.k.invariants.violate("vmstat-exact", cpu, `${vmItems[item]}: global ${this.global[item]} + per-CPU diffs ${this.seenSum[item]} = ${sum}, true total ${truth}`);
      this.drift[item] = truth - sum;
    }
  }

  /** After a fold of `cpu`: its diffs are all 0 and every item is exact. */
  private checkFolded(cpu: number): void {
    const base = cpu * this.n;
    for (let i = 0; i < this.n; i++) {
      const d = this.diffs[base + i]!;
      if (d !== 0) this.k.invariants.violate("vmstat-exact", cpu, `${vmItems[i]} diff ${d} left on CPU ${cpu} after a fold`);
      this.seenSum[i] = this.seenSum[i]! + d - this.seen[base + i]!;
      this.seen[base + i] = d;
      this.checkExact(cpu, i);
    }
  }

  /** End of run: every diff checked afresh (catches an update that bypassed the per-update checks). */
  private checkAll(): void {
    for (let cpu = 0; cpu < this.k.nrCpus; cpu++) {
      const base = cpu * this.n;
      for (let i = 0; i < this.n; i++) {
        const d = this.diffs[base + i]!;
        this.seenSum[i] = this.seenSum[i]! + d - this.seen[base + i]!;
        this.seen[base + i] = d;
      }
    }
    for (let i = 0; i < this.n; i++) this.checkExact(-1, i);
  }
}
