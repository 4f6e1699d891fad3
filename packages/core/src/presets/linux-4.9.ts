import type { Preset } from "./preset.js";

/** The 2016 baseline: Linux 4.9, x86 LAPIC without ONESHOT_STOPPED, CONFIG_PREEMPT, residual 1 Hz tick. */
export const linux49: Preset = Object.freeze({
  name: "linux-4.9",
  description: "Linux 4.9 (2016): residual 1 Hz tick, per-flavour rcuo kthreads, IPI-driven LRU/vmstat/TLB work",
  era: "4.9",
  params: Object.freeze({
    hz: 1000,
    clockeventOneshotStopped: false,
    tickDepRcu: false,
    tickDepKickAll: true,
    preemptRcu: true,
    pagevecSize: 14,
    lruDrainGen: false,
    mlockDrainsAll: true,
    mlockBatch: false,
    vmstatQuietAtTickStop: false,
    vmstatNeedUpdateNodes: false,
    rtRuntimeShare: true,
    pti: false,
    rcuFlavoursMerged: false,
    rcuPendingNohzFullUserOnly: false,
  }),
  mechanisms: Object.freeze([]),
});
