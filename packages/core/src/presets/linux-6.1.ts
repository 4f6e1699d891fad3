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
  }),
  mechanisms: Object.freeze([
    Object.freeze({ name: "remote-stats" }),
    Object.freeze({ name: "rcu-nocb-merge", variant: "gp-groups", options: Object.freeze({ all_cpus: true }) }),
    Object.freeze({ name: "oneshot-stopped" }),
  ]),
});
