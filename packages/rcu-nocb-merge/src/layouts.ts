import { intSqrt, nocbLeaderStride } from "@isolsim/core";
import type { Kernel, NocbKthreadSpec, NocbLayout, NocbQueueRef, RcuFlavour } from "@isolsim/core";

/** CPU the rcuo kthreads run on: the first housekeeping CPU, as the core's 4.9 layout pins them (rcu_bind_gp_kthread(); 6.1: HK_TYPE_KTHREAD). */
function nocbKthreadCpu(k: Kernel): number {
  return k.hk.housekeeping.isEmpty() ? k.bootCpu : k.hk.housekeeping.first();
}

/** Every flavour's queue of `cpu`: what one kthread serves once the flavours share it (v4.20 one rcu_data per CPU). */
function allFlavours(flavours: readonly RcuFlavour[], cpu: number): NocbQueueRef[] {
  return flavours.map((f) => ({ flavour: f.index, cpu }));
}

/**
 * Splits `cpus` into stride-aligned blocks [m·stride, (m+1)·stride) in CPU order, as the
 * `nl = DIV_ROUND_UP(rdp->cpu + 1, ls) * ls` walk of rcu_organize_nocb_kthreads() does.
 */
function strideGroups(cpus: readonly number[], stride: number): number[][] {
  const groups: number[][] = [];
  let next = 0;
  for (const cpu of cpus) {
    if (cpu >= next || groups.length === 0) {
      next = Math.ceil((cpu + 1) / stride) * stride;
      groups.push([]);
    }
    groups[groups.length - 1]!.push(cpu);
  }
  return groups;
}

/** rcu_state.abbr (v4.20+ RCU_ABBR): `p` under CONFIG_PREEMPT_RCU, else `s` — the letter of every rcuo kthread once the flavours merged. */
export function rcuAbbr(flavours: readonly RcuFlavour[]): string {
  return flavours[0]?.abbr ?? "s";
}

/**
 * The merged layout (2016 idea; mainline v4.20 consolidated the flavours into one rcu_state, so
 * rcu_data is per CPU, not per flavour): one `rcuo<abbr>/N` kthread per
 * offloaded CPU (rcu_spawn_one_nocb_kthread(): `"rcuo%c/%d", rcu_state.abbr, cpu`) whose single
 * work list takes the callbacks of every flavour. v4.20 kept 4.9's leader/follower wakeups
 * (rcu_organize_nocb_kthreads() with rcu_nocb_leader_stride = int_sqrt(nr_cpu_ids)): the group's
 * first offloaded CPU's kthread collects and waits grace periods for the whole group.
 */
export const mergedNocbLayout: NocbLayout = (k, flavours, nocbCpus) => {
  const pin = nocbKthreadCpu(k);
  const abbr = rcuAbbr(flavours);
  const out: NocbKthreadSpec[] = [];
  for (const group of strideGroups(nocbCpus, nocbLeaderStride(k))) {
    group.forEach((cpu, i) => {
      out.push({
        name: `rcuo${abbr}/${cpu}`,
        role: "rcu_callback",
        cpu: pin,
        gp: i === 0 ? group.flatMap((c) => allFlavours(flavours, c)) : [],
        cb: allFlavours(flavours, cpu),
      });
    });
  }
  return out;
};

/** rcu_nocb_gp_stride (v5.4 tree_plugin.h, 6.1 tree_nocb.h): `override` when given, else nr_cpu_ids / int_sqrt(nr_cpu_ids). */
export function nocbGpStride(nrCpus: number, override?: number): number {
  if (override !== undefined) return override;
  return Math.max(1, Math.floor(nrCpus / Math.max(1, intSqrt(nrCpus))));
}

/** Options of {@link gpGroupsNocbLayout}. */
export interface GpGroupsLayoutOptions {
  /** rcu_nocb_gp_stride boot parameter; default nr_cpu_ids / int_sqrt(nr_cpu_ids). */
  gpStride?: number;
  /**
   * 6.1 tree_nocb.h: rcu_organize_nocb_kthreads() walks for_each_possible_cpu(), so each stride block's rcuog is
   * named after its first CPU, and rcu_spawn_cpu_nocb_kthread() spawns `rcuop/N` (and its rcuog) for
   * every CPU once rcu_state.nocb_is_setup, offloaded or not, ready for runtime (de-)offloading.
   * Default false: v5.4 (for_each_cpu(cpu, rcu_nocb_mask) and rcu_is_nocb_cpu() checks), offloaded CPUs only.
   */
  allCpus?: boolean;
}

/**
 * The v5.4 layout ("rcu/nocb: Provide separate no-CBs grace-period kthreads"; 6.1 tree_nocb.h):
 * one `rcuog/N` grace-period kthread per rcu_nocb_gp_stride block of CPUs (nocb_gp_wait(): collects
 * every rdp of its group, waits for the earliest needed grace period, then swake_up_one()s each
 * rdp's nocb_cb_wq), and one `rcuo<abbr>/N` callback kthread per offloaded CPU (nocb_cb_wait() →
 * rcu_do_batch()). rcuog/N is spawned just before the first rcuop of its group (rcu_spawn_cpu_nocb_kthread()).
 */
export function gpGroupsNocbLayout(options: GpGroupsLayoutOptions = {}): NocbLayout {
  return (k, flavours, nocbCpus) => {
    const pin = nocbKthreadCpu(k);
    const abbr = rcuAbbr(flavours);
    const stride = nocbGpStride(k.nrCpus, options.gpStride);
    const offloaded = new Set(nocbCpus);
    const walk = options.allCpus ? Array.from({ length: k.nrCpus }, (_, cpu) => cpu) : nocbCpus;
    const out: NocbKthreadSpec[] = [];
    for (const group of strideGroups(walk, stride)) {
      const mine = group.filter((c) => offloaded.has(c));
      out.push({ name: `rcuog/${group[0]!}`, role: "rcu_gp", cpu: pin, gp: mine.flatMap((c) => allFlavours(flavours, c)), cb: [] });
      for (const cpu of group) {
        out.push({ name: `rcuo${abbr}/${cpu}`, role: "rcu_callback", cpu: pin, gp: [], cb: offloaded.has(cpu) ? allFlavours(flavours, cpu) : [] });
      }
    }
    return out;
  };
}
