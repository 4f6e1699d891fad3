import type { Preset } from "./preset.js";
import { linux612 } from "./linux-6.12.js";

/**
 * The 6.12 LTS with PREEMPT_RT (Debian 13's linux-image-rt-amd64; PREEMPT_RT is in mainline since
 * v6.12 "sched: Add PREEMPT_RT to the preemption model choice"): what linux-6.12 sets, with
 * PREEMPT_RCU (PREEMPT_RT selects PREEMPTION, kernel/Kconfig.preempt). Lazy preemption and the
 * rcuc/rcub kthreads (H8) are set by their switches once merged (docs/presets.md).
 */
export const linux612Rt: Preset = Object.freeze({
  name: "linux-6.12-rt",
  description: "Linux 6.12 LTS with PREEMPT_RT (Debian 13 -rt): linux-6.12 with the RT preemption model",
  era: "6.12",
  params: Object.freeze({ ...linux612.params, preemptRcu: true }),
  mechanisms: linux612.mechanisms,
});
