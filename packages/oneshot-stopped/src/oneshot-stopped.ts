import type { Kernel, Mechanism } from "@isolsim/core";

/**
 * oneshot-stopped: every per-CPU clock event device implements set_state_oneshot_stopped (x86 LAPIC
 * lapic_timer_shutdown() since v4.12; arm arch timer before), so tick_program_event(KTIME_MAX) in
 * an indefinite tick stop really stops the device (kernel/time/clockevents.c
 * __clockevents_switch_state()) and its last deadline never fires as a spurious timer interrupt.
 */
export function oneshotStopped(): Mechanism {
  return {
    name: "oneshot-stopped",
    description: "clock event devices support ONESHOT_STOPPED: an indefinite tick stop leaves no spurious timer interrupt",
    install(k: Kernel): void {
      for (const d of k.clockevents.devices) d.supportsOneshotStopped = true;
    },
  };
}
