import type { Nanoseconds } from "../engine/engine.js";
import { EventPriority } from "../engine/engine.js";
import type { Kernel } from "../kernel.js";

/** Clock event device states (enum clock_event_state, include/linux/clockchips.h). */
export const ClockEventState = {
  /** CLOCK_EVT_STATE_SHUTDOWN. */
  shutdown: 0,
  /** CLOCK_EVT_STATE_PERIODIC. */
  periodic: 1,
  /** CLOCK_EVT_STATE_ONESHOT: fires once at the programmed deadline. */
  oneshot: 2,
  /** CLOCK_EVT_STATE_ONESHOT_STOPPED: oneshot with no deadline armed. */
  oneshotStopped: 3,
} as const;

/** One of {@link ClockEventState}'s values. */
export type ClockEventStateId = (typeof ClockEventState)[keyof typeof ClockEventState];

/** A per-CPU clock event device (struct clock_event_device): the local APIC timer. */
export interface ClockEventDevice {
  /** Device state. */
  state: ClockEventStateId;
  /** Deadline armed in hardware, or Infinity. */
  nextEvent: Nanoseconds;
  /** Engine handle of the armed deadline. */
  handle: number;
  /** Whether the driver implements set_state_oneshot_stopped (LAPIC: v4.12+). */
  supportsOneshotStopped: boolean;
}

/** The per-CPU clock event devices (kernel/time/clockevents.c). */
export class ClockEvents {
  /** Devices, indexed by CPU. */
  readonly devices: ClockEventDevice[];
  private readonly kFire: number;

  constructor(private readonly k: Kernel) {
    this.devices = Array.from({ length: k.nrCpus }, () => ({
      state: ClockEventState.oneshot,
      nextEvent: Infinity,
      handle: 0,
      supportsOneshotStopped: k.params.clockeventOneshotStopped,
    }));
    this.kFire = k.engine.register("clockevent", (cpu) => this.fire(cpu));
  }

  /** Arms the device at `expires` (clockevents_program_event()). */
  programEvent(cpu: number, expires: Nanoseconds): void {
    const d = this.devices[cpu]!;
    if (d.state === ClockEventState.oneshotStopped) d.state = ClockEventState.oneshot;
    if (d.nextEvent === expires && d.handle) return;
    if (d.handle) this.k.engine.cancel(d.handle);
    d.nextEvent = expires;
    d.handle = this.k.engine.schedule(expires, this.kFire, cpu, 0, EventPriority.timer);
  }

  /**
   * tick_program_event(KTIME_MAX): asks for ONESHOT_STOPPED. A driver without the callback leaves
   * the state ONESHOT (-ENOSYS in __clockevents_switch_state()) and its last deadline armed.
   */
  programStopped(cpu: number): void {
    const d = this.devices[cpu]!;
    if (!d.supportsOneshotStopped) return;
    if (d.handle) this.k.engine.cancel(d.handle);
    d.handle = 0;
    d.nextEvent = Infinity;
    d.state = ClockEventState.oneshotStopped;
  }

  private fire(cpu: number): void {
    const d = this.devices[cpu]!;
    d.handle = 0;
    d.nextEvent = Infinity;
    this.k.tick.timerInterrupt(cpu);
  }
}
