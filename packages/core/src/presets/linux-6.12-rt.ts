import type { Preset } from "./preset.js";
import { linux612 } from "./linux-6.12.js";

/**
 * The 6.12 LTS with PREEMPT_RT (Debian 13's linux-image-rt-amd64; PREEMPT_RT is in mainline since
 * v6.12 "sched: Add PREEMPT_RT to the preemption model choice"): what linux-6.12 sets, with
 * PREEMPT_RCU (PREEMPT_RT selects PREEMPTION, kernel/Kconfig.preempt), lazy preemption (the RT
 * build carries v6.13's "sched: Add Lazy preemption model"), RCU core work in rcuc/N kthreads
 * (`use_softirq = !IS_ENABLED(CONFIG_PREEMPT_RT)`) and RCU_BOOST's rcub kthreads (`default y if
 * PREEMPT_RT`); docs/presets.md lists every switch.
 */
export const linux612Rt: Preset = Object.freeze({
  name: "linux-6.12-rt",
  description: "Linux 6.12 LTS with PREEMPT_RT (Debian 13 -rt): linux-6.12 with lazy preemption, rcuc/N and rcub kthreads",
  era: "6.12",
  params: Object.freeze({ ...linux612.params, preemptRcu: true, preemptLazy: true, rcuUseSoftirq: false, rcuBoost: true }),
  mechanisms: linux612.mechanisms,
});
