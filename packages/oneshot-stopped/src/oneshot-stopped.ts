import { ClockEventState } from "@isolsim/core";
import type { Kernel, Mechanism } from "@isolsim/core";

/** Deliberate faults, for the mutation check only (scenario files cannot set them). */
export interface OneshotStoppedFaults {
  /**
   * set_state_oneshot_stopped switches the device's state but leaves its last deadline armed in the
   * hardware (a lapic_timer_shutdown() that never writes APIC_TMICT = 0): the deadline still fires.
   */
  leaveArmed?: boolean;
  /**
   * tick_program_event() re-arms a ONESHOT_STOPPED device without first switching it back to ONESHOT
   * (the `clockevent_state_oneshot_stopped()` check of kernel/time/tick-oneshot.c forgotten): the
   * stopped device ignores the new deadline, so a restarted tick never fires.
   */
  rearmStaysStopped?: boolean;
  /**
   * set_state_oneshot_stopped stops the LAPIC timer but returns an error, so
   * __clockevents_switch_state() leaves the state ONESHOT: the core believes the last deadline is
   * still armed (the device counts as lacking ONESHOT_STOPPED) while the hardware will never fire it.
   */
  stopReportsError?: boolean;
}

/** Options of {@link oneshotStopped}. */
export interface OneshotStoppedOptions {
  /** Deliberate faults (the mutation check only). */
  faults?: OneshotStoppedFaults;
}

/**
 * oneshot-stopped: every per-CPU clock event device implements set_state_oneshot_stopped (x86 LAPIC
 * lapic_timer_shutdown() since v4.12; arm arch timer before), so tick_program_event(KTIME_MAX) in
 * an indefinite tick stop really stops the device (kernel/time/clockevents.c
 * __clockevents_switch_state()) and its last deadline never fires as a spurious timer interrupt.
 */
export function oneshotStopped(options: OneshotStoppedOptions = {}): Mechanism {
  const faults = options.faults ?? {};
  return {
    name: "oneshot-stopped",
    description: "clock event devices support ONESHOT_STOPPED: an indefinite tick stop leaves no spurious timer interrupt",
    install(k: Kernel): void {
      for (const d of k.clockevents.devices) d.supportsOneshotStopped = !faults.stopReportsError;
      if (faults.leaveArmed || faults.rearmStaysStopped || faults.stopReportsError) breakOneshotStopped(k, faults);
    },
  };
}

/** The faults of {@link OneshotStoppedFaults}, as replacements of the kernel's clockevents functions. */
function breakOneshotStopped(k: Kernel, faults: OneshotStoppedFaults): void {
  const ce = k.clockevents;
  if (faults.leaveArmed) {
    ce.programStopped = (cpu) => {
      ce.devices[cpu]!.state = ClockEventState.oneshotStopped;
    };
  }
  if (faults.stopReportsError) {
    const stop = ce.programStopped.bind(ce);
    ce.programStopped = (cpu) => {
      const dev = ce.devices[cpu]!;
      dev.supportsOneshotStopped = true;
      stop(cpu);
      dev.supportsOneshotStopped = false;
      dev.state = ClockEventState.oneshot;
    };
  }
  if (faults.rearmStaysStopped) {
    // tick_program_event() without its switch back to ONESHOT: straight to clockevents_program_event().
    ce.programEvent = (cpu, expires) => ce.programDevice(cpu, expires);
  }
}
