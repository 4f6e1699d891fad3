import type { Preset } from "./preset.js";
import { linux61 } from "./linux-6.1.js";

/**
 * The 6.12 LTS as Debian 13 ships it (HZ=250, CONFIG_PREEMPT_DYNAMIC, so PREEMPT_RCU): 6.1's
 * switches, folio batches of 31 (include/linux/pagevec.h PAGEVEC_SIZE, v6.6 "mm: increase
 * folio batch size"), and the vmstat shepherd skipping isolated CPUs (mm/vmstat.c
 * vmstat_shepherd(): cpu_is_isolated(), v6.5) built in as vmstat-quiesce `shepherd-skip`, the fair
 * server (v6.12 "sched/fair: Fair server interface": 50 ms per 1 s, neither upstream fix of v6.17 /
 * v6.19), RCU_LAZY (v6.2, on in Debian's config) and the expedited and tasks-RCU kthreads
 * (docs/presets.md lists every switch).
 */
export const linux612: Preset = Object.freeze({
  name: "linux-6.12",
  description: "Linux 6.12 LTS (Debian 13): 6.1 plus the fair server's 1 Hz kick, RCU_LAZY, folio batches of 31 and the vmstat shepherd skipping isolated CPUs",
  era: "6.12",
  params: Object.freeze({
    ...linux61.params,
    pagevecSize: 31,
    fairServerRuntimeNs: 50_000_000,
    fairServerPeriodNs: 1_000_000_000,
    dlServerCountsNrRunning: true,
    dlServerTimerUpdatesCurr: false,
    rcuLazy: true,
    rcuExpKthreadWorkers: true,
    rcuTasksKthreads: true,
  }),
  mechanisms: Object.freeze([...linux61.mechanisms, Object.freeze({ name: "vmstat-quiesce", variant: "shepherd-skip" })]),
});
