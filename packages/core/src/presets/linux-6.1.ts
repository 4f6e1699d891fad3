import type { Preset } from "./preset.js";

/**
 * Linux 6.1 as Debian 12 ships it (6.1.x, x86_64, HZ=250, CONFIG_PREEMPT_DYNAMIC with voluntary
 * preemption by default: PREEMPT_DYNAMIC selects PREEMPT_BUILD → PREEMPTION → PREEMPT_RCU, so
 * rcu_preempt takes call_rcu(); kernel/Kconfig.preempt, kernel/rcu/Kconfig). Remote tick,
 * rcuog/rcuop offloading and LAPIC ONESHOT_STOPPED are built in; the CPU needs no PTI.
 */
export const linux61: Preset = Object.freeze({
  name: "linux-6.1",
  description: "Linux 6.1 (Debian 12): remote tick, rcuog/rcuop offloading, ONESHOT_STOPPED, deferrable vmstat_update never fired on a tickless CPU",
  era: "6.1",
  params: Object.freeze({
    hz: 250,
    clockeventOneshotStopped: true,
    tickDepRcu: true,
    tickDepKickAll: false,
    preemptRcu: true,
    pagevecSize: 15,
    lruDrainGen: true,
    mlockDrainsAll: false,
    mlockBatch: true,
    vmstatQuietAtTickStop: true,
    vmstatNeedUpdateNodes: true,
    rtRuntimeShare: false,
    pti: false,
    rcuFlavoursMerged: true,
    // kernel/rcu/tree.c adjust_jiffies_till_sched_qs(): jiffies_to_sched_qs = max(first_fqs + 2 ×
    // next_fqs, HZ / 10 + nr_cpu_ids / RCU_JIFFIES_FQS_DIV) = HZ / 10 jiffies on small machines: 100 ms.
    rcuJiffiesTillSchedQsNs: 100_000_000,
    rcuPendingNohzFullUserOnly: true,
  }),
  mechanisms: Object.freeze([
    Object.freeze({ name: "remote-stats" }),
    Object.freeze({ name: "rcu-nocb-merge", variant: "gp-groups", options: Object.freeze({ all_cpus: true }) }),
    Object.freeze({ name: "oneshot-stopped" }),
  ]),
});
