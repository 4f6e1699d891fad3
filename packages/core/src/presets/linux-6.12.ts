import type { Preset } from "./preset.js";
import { linux61 } from "./linux-6.1.js";

/**
 * The 6.12 LTS as Debian 13 ships it (HZ=250, CONFIG_PREEMPT_DYNAMIC, so PREEMPT_RCU): 6.1's
 * switches, folio batches of 31 (include/linux/pagevec.h PAGEVEC_SIZE, v6.6 "mm: increase
 * folio batch size"), and the vmstat shepherd skipping isolated CPUs (mm/vmstat.c
 * vmstat_shepherd(): cpu_is_isolated(), v6.5) built in as vmstat-quiesce `shepherd-skip`.
 * The fair server (H7), RCU_LAZY and the expedited/tasks RCU kthreads (H9) are set by their switches
 * once merged (docs/presets.md).
 */
export const linux612: Preset = Object.freeze({
  name: "linux-6.12",
  description: "Linux 6.12 LTS (Debian 13): 6.1 plus folio batches of 31 and the vmstat shepherd skipping isolated CPUs",
  era: "6.12",
  params: Object.freeze({
    ...linux61.params,
    pagevecSize: 31,
  }),
  mechanisms: Object.freeze([...linux61.mechanisms, Object.freeze({ name: "vmstat-quiesce", variant: "shepherd-skip" })]),
});
