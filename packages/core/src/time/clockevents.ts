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

/** Every CPU's device fields in typed arrays indexed by CPU, so a {@link ClockEventDevice} holds no boxed numbers. */
class ClockEventTable {
  /** nextEvent and handle of CPU c at 2c, 2c+1 (engine handles exceed 32 bits). */
  readonly times: Float64Array;
  /** state and supportsOneshotStopped (0/1) of CPU c at 2c, 2c+1. */
  readonly bytes: Uint8Array;

  constructor(n: number, supportsOneshotStopped: boolean) {
    this.times = new Float64Array(2 * n);
    this.bytes = new Uint8Array(2 * n);
    for (let cpu = 0; cpu < n; cpu++) {
      this.times[2 * cpu] = Infinity;
      this.bytes[2 * cpu] = ClockEventState.oneshot;
      this.bytes[2 * cpu + 1] = supportsOneshotStopped ? 1 : 0;
    }
  }
}

/** One CPU's {@link ClockEventDevice}: accessors over its {@link ClockEventTable} slots. */
class ClockEventDeviceOf implements ClockEventDevice {
  constructor(
    private readonly t: ClockEventTable,
    private readonly cpu: number,
  ) {}

  get state(): ClockEventStateId {
    return this.t.bytes[2 * this.cpu] as ClockEventStateId;
  }

  set state(v: ClockEventStateId) {
    this.t.bytes[2 * this.cpu] = v;
  }

  get nextEvent(): Nanoseconds {
    return this.t.times[2 * this.cpu]!;
  }

  set nextEvent(v: Nanoseconds) {
    this.t.times[2 * this.cpu] = v;
  }

  get handle(): number {
    return this.t.times[2 * this.cpu + 1]!;
  }

  set handle(v: number) {
    this.t.times[2 * this.cpu + 1] = v;
  }

  get supportsOneshotStopped(): boolean {
    return this.t.bytes[2 * this.cpu + 1] === 1;
  }

  set supportsOneshotStopped(v: boolean) {
    this.t.bytes[2 * this.cpu + 1] = v ? 1 : 0;
  }
}

/** The per-CPU clock event devices (kernel/time/clockevents.c). */
export class ClockEvents {
  /** Devices, indexed by CPU. */
  readonly devices: ClockEventDevice[];
  /** {@link ClockEventTable.times}: nextEvent, handle of CPU c at 2c, 2c+1, read directly on hot paths. */
  private readonly times: Float64Array;
  /** {@link ClockEventTable.bytes}: state, supportsOneshotStopped of CPU c at 2c, 2c+1. */
  private readonly bytes: Uint8Array;
  private readonly kFire: number;

  constructor(private readonly k: Kernel) {
    const table = new ClockEventTable(k.nrCpus, k.params.clockeventOneshotStopped);
    this.times = table.times;
    this.bytes = table.bytes;
    this.devices = Array.from({ length: k.nrCpus }, (_, cpu) => new ClockEventDeviceOf(table, cpu));
    this.kFire = k.engine.register("clockevent", (cpu) => this.fire(cpu));
  }

  /**
   * Arms the tick's device at `expires` (tick_program_event(), kernel/time/tick-oneshot.c): a
   * device left ONESHOT_STOPPED by an indefinite stop is switched back to ONESHOT first, then
   * {@link programDevice}.
   */
  programEvent(cpu: number, expires: Nanoseconds): void {
    if (this.bytes[2 * cpu] === ClockEventState.oneshotStopped) this.bytes[2 * cpu] = ClockEventState.oneshot;
    this.programDevice(cpu, expires);
  }

  /**
   * Arms the device at `expires` (clockevents_program_event(), kernel/time/clockevents.c), which
   * must find it in ONESHOT (the kernel's WARN_ONCE, checked as clockevent-stopped) or SHUTDOWN: a
   * device not in ONESHOT records the deadline as `next_event` but arms nothing, so no interrupt comes.
   */
  programDevice(cpu: number, expires: Nanoseconds): void {
    const times = this.times;
    const bytes = this.bytes;
    const state = bytes[2 * cpu] as ClockEventStateId;
    this.k.invariants.clockeventProgrammed(cpu, expires, state);
    if (state !== ClockEventState.oneshot) {
      const stale = times[2 * cpu + 1]!;
      if (stale) this.k.engine.cancel(stale);
      times[2 * cpu] = expires;
      times[2 * cpu + 1] = 0;
      return;
    }
    const handle = times[2 * cpu + 1]!;
    if (times[2 * cpu] === expires && handle) return;
    if (handle) this.k.engine.cancel(handle);
    times[2 * cpu] = expires;
    times[2 * cpu + 1] = this.k.engine.schedule(expires, this.kFire, cpu, 0, EventPriority.timer);
  }

  /**
   * tick_program_event(KTIME_MAX): asks for ONESHOT_STOPPED. A driver without the callback leaves
   * the state ONESHOT (-ENOSYS in __clockevents_switch_state()) and its last deadline armed.
   */
  programStopped(cpu: number): void {
    const times = this.times;
    if (this.bytes[2 * cpu + 1] === 0) return;
    const handle = times[2 * cpu + 1]!;
    if (handle) this.k.engine.cancel(handle);
    times[2 * cpu + 1] = 0;
    times[2 * cpu] = Infinity;
    this.bytes[2 * cpu] = ClockEventState.oneshotStopped;
  }

  /** Whether `cpu`'s device has a deadline armed (a non-zero engine handle). */
  armed(cpu: number): boolean {
    return this.times[2 * cpu + 1] !== 0;
  }

  /** Whether `cpu`'s driver implements set_state_oneshot_stopped. */
  supportsOneshotStopped(cpu: number): boolean {
    return this.bytes[2 * cpu + 1] === 1;
  }

  /** The device's interrupt: the deadline passed (hrtimer_interrupt() follows). */
  private fire(cpu: number): void {
    const times = this.times;
    times[2 * cpu + 1] = 0;
    times[2 * cpu] = Infinity;
    this.k.tick.timerInterrupt(cpu);
  }
}
