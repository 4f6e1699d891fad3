import type { Engine, Nanoseconds } from "../engine/engine.js";
import type { Kernel } from "../kernel.js";
import { Context } from "../machine/cpu.js";
import type { Cpu } from "../machine/cpu.js";
import { interruptionKeys } from "./sources.js";

/** Per-CPU noise figures (osnoise's definitions, kernel/trace/trace_osnoise.c). */
export interface CpuNoise {
  /** Interruptions per source (index = Src), counted when they start in the measured window. */
  readonly counts: Int32Array;
  /** Noise time in the measured window, ns. */
  noiseNs: Nanoseconds;
  /** Longest single noise interval, ns. */
  maxSingleNs: Nanoseconds;
  /** Noise intervals counted. */
  intervals: number;
  /** Whether a user task is bound here (noise is measured only then). */
  hasUserTask: boolean;
  /** Time user tasks of this CPU ran their own work (user mode and own syscalls) in the window, ns. */
  ownNs: Nanoseconds;
  /** Start of the current stretch of own work, or -1. */
  ownSince: Nanoseconds;
}

/** Slots per CPU in {@link NoiseTable.times}. */
const NOISE_SLOTS = 6;
/** Slot of noiseNs. */
const NOISE_NS = 0;
/** Slot of maxSingleNs. */
const MAX_SINGLE_NS = 1;
/** Slot of ownNs. */
const OWN_NS = 2;
/** Slot of ownSince. */
const OWN_SINCE = 3;
/** Slot of the time the last noise interval closed (-1: none). */
const LAST_CLOSE = 4;
/** Slot of the length of the last closed noise interval. */
const LAST_LEN = 5;

/**
 * Per-CPU state byte: no user task; a user task, the CPU's state as {@link NoiseAccounting.update}
 * last left it unknown; or known as own work (ownSince set, no noise interval open) or noise (an
 * interval open, ownSince -1), so an update that sees the same state again has nothing to do.
 */
const UserState = {
  /** No user task bound here: noise is not measured. */
  none: 0,
  /** A user task; ownSince and noiseSince not known to match a state (at start, or after a direct write). */
  unknown: 1,
  /** The last update saw own work: ownSince >= 0 and noiseSince < 0 since. */
  own: 2,
  /** The last update saw noise: ownSince < 0 and noiseSince >= 0 since. */
  noise: 3,
} as const;

/** Every CPU's noise figures in typed arrays indexed by CPU, so a CPU's {@link CpuNoise} holds no boxed numbers. */
class NoiseTable {
  /** noiseNs, maxSingleNs, ownNs, ownSince, lastClose, lastLen of CPU c at {@link NOISE_SLOTS}c..+5 (one CPU's together). */
  readonly times: Float64Array;
  /** intervals of CPU c at c. */
  readonly intervals: Int32Array;
  /** hasUserTask of CPU c at c, with what its last update saw: a {@link UserState}. */
  readonly userState: Uint8Array;
  /** counts of CPU c at c × interruptionKeys.length. */
  readonly counts: Int32Array;
  /** The last view of one CPU's counts made (a report reads one CPU's counts key by key), or null. */
  countsView: Int32Array | null = null;
  /** The CPU of {@link countsView}, or -1. */
  countsViewCpu = -1;

  constructor(n: number) {
    this.times = new Float64Array(NOISE_SLOTS * n);
    this.intervals = new Int32Array(n);
    this.userState = new Uint8Array(n);
    this.counts = new Int32Array(n * interruptionKeys.length);
    for (let cpu = 0; cpu < n; cpu++) {
      this.times[NOISE_SLOTS * cpu + OWN_SINCE] = -1;
      this.times[NOISE_SLOTS * cpu + LAST_CLOSE] = -1;
    }
  }
}

/** One CPU's {@link CpuNoise}: accessors over its {@link NoiseTable} slots. */
class CpuNoiseOf implements CpuNoise {
  constructor(
    private readonly t: NoiseTable,
    private readonly cpu: number,
  ) {}

  /** A view of the CPU's slice of the interruption counts (the table's last one while it is this CPU's). */
  get counts(): Int32Array {
    const t = this.t;
    if (t.countsViewCpu !== this.cpu) {
      const n = interruptionKeys.length;
      t.countsView = t.counts.subarray(this.cpu * n, (this.cpu + 1) * n);
      t.countsViewCpu = this.cpu;
    }
    return t.countsView!;
  }

  get noiseNs(): Nanoseconds {
    return this.t.times[NOISE_SLOTS * this.cpu + NOISE_NS]!;
  }

  set noiseNs(v: Nanoseconds) {
    this.t.times[NOISE_SLOTS * this.cpu + NOISE_NS] = v;
  }

  get maxSingleNs(): Nanoseconds {
    return this.t.times[NOISE_SLOTS * this.cpu + MAX_SINGLE_NS]!;
  }

  set maxSingleNs(v: Nanoseconds) {
    this.t.times[NOISE_SLOTS * this.cpu + MAX_SINGLE_NS] = v;
  }

  get ownNs(): Nanoseconds {
    return this.t.times[NOISE_SLOTS * this.cpu + OWN_NS]!;
  }

  set ownNs(v: Nanoseconds) {
    this.t.times[NOISE_SLOTS * this.cpu + OWN_NS] = v;
  }

  get ownSince(): Nanoseconds {
    return this.t.times[NOISE_SLOTS * this.cpu + OWN_SINCE]!;
  }

  set ownSince(v: Nanoseconds) {
    this.t.times[NOISE_SLOTS * this.cpu + OWN_SINCE] = v;
    if (this.t.userState[this.cpu] !== UserState.none) this.t.userState[this.cpu] = UserState.unknown;
  }

  get intervals(): number {
    return this.t.intervals[this.cpu]!;
  }

  set intervals(v: number) {
    this.t.intervals[this.cpu] = v;
  }

  get hasUserTask(): boolean {
    return this.t.userState[this.cpu] !== UserState.none;
  }

  set hasUserTask(v: boolean) {
    this.t.userState[this.cpu] = v ? UserState.unknown : UserState.none;
  }
}

/**
 * Noise accounting: every interruption is counted by its source when a subsystem delivers it; the
 * user task's lost time is measured from leaving its own work to returning to it, nested and
 * back-to-back interruptions counted once.
 */
export class NoiseAccounting {
  /** Per-CPU figures. */
  readonly cpus: CpuNoise[];
  /** Every CPU's interruption counts (CPU c's at c × interruptionKeys.length). */
  private readonly countsAll: Int32Array;
  /** The table behind {@link cpus}, read directly on the per-transition path. */
  private readonly table: NoiseTable;
  /** {@link NoiseTable.times}, read directly on the per-transition path. */
  private readonly times: Float64Array;
  /** {@link NoiseTable.userState}, read directly on the per-transition path. */
  private readonly userState: Uint8Array;
  /** The kernel's engine (its clock). */
  private readonly engine: Engine;

  constructor(private readonly k: Kernel) {
    const table = new NoiseTable(k.nrCpus);
    this.table = table;
    this.times = table.times;
    this.userState = table.userState;
    this.engine = k.engine;
    this.countsAll = table.counts;
    this.cpus = Array.from({ length: k.nrCpus }, (_, cpu) => new CpuNoiseOf(table, cpu));
  }

  /** Counts one interruption of `cpu` by `source` starting at `at`. */
  interruption(cpu: number, source: number, at: Nanoseconds): void {
    if (at >= this.k.warmup) this.countsAll[cpu * interruptionKeys.length + source]!++;
  }

  /** Re-evaluates `c` after a transition: opens or closes its noise interval. */
  update(c: Cpu): void {
    const cpu = c.id;
    const state = this.userState[cpu]!;
    if (state === UserState.none) return;
    // Own work: a user task of this CPU in user mode, or running its own syscall.
    const t = c.curr;
    const own = !c.inIrq && t !== null && t.user && (c.ctx === Context.user || (c.running !== null && c.running.own));
    // The same state as the last update left: ownSince and noiseSince are already as transition() would leave them.
    if (state !== (own ? UserState.own : UserState.noise)) this.transition(c, cpu, own);
  }

  /** {@link update} when `c` (CPU `cpu`) changed between own work and noise (or its state is unknown). */
  private transition(c: Cpu, cpu: number, own: boolean): void {
    this.userState[cpu] = own ? UserState.own : UserState.noise;
    const now = this.engine.now;
    const times = this.times;
    const at = NOISE_SLOTS * cpu;
    const ownSince = times[at + OWN_SINCE]!;
    if (own) {
      if (ownSince < 0) times[at + OWN_SINCE] = now;
      if (c.noiseSince >= 0) this.close(c, at, now);
    } else {
      if (ownSince >= 0) {
        const f = Math.max(ownSince, this.k.warmup);
        if (now > f) times[at + OWN_NS] = times[at + OWN_NS]! + (now - f);
        times[at + OWN_SINCE] = -1;
      }
      if (c.noiseSince < 0) this.open(c, at, now);
    }
  }

  private addOwn(n: CpuNoise, from: Nanoseconds, to: Nanoseconds): void {
    const f = Math.max(from, this.k.warmup);
    if (to > f) n.ownNs += to - f;
  }

  /** Opens a noise interval of `c` (its slots at `at`) at `now`, reopening one that closed at this instant. */
  private open(c: Cpu, at: number, now: Nanoseconds): void {
    const times = this.times;
    if (times[at + LAST_CLOSE] === now) {
      const start = now - times[at + LAST_LEN]!;
      c.noiseSince = start;
      this.account(c.id, start, now, -1);
      return;
    }
    c.noiseSince = now;
  }

  /** Closes the noise interval of `c` (its slots at `at`) at `now`. */
  private close(c: Cpu, at: number, now: Nanoseconds): void {
    const times = this.times;
    const start = c.noiseSince;
    c.noiseSince = -1;
    this.account(c.id, start, now, 1);
    times[at + LAST_CLOSE] = now;
    times[at + LAST_LEN] = now - start;
  }

  /**
   * Adds (sign 1) or takes back (-1) a noise interval of `cpu` from `start` to `end`, clipped to the
   * measured window: an interval that began before warmup adds only its part from warmup on, as
   * osnoise accounts the noise of each sampling period (kernel/trace/trace_osnoise.c
   * run_osnoise(): noise is measured within the period, whatever began before it). Taking back uses
   * the same clipping, so a reopened interval is counted once.
   */
  private account(cpu: number, start: Nanoseconds, end: Nanoseconds, sign: 1 | -1): void {
    const warmup = this.k.warmup;
    if (start < warmup && end <= warmup) return;
    const len = end - (start < warmup ? warmup : start);
    const times = this.times;
    const at = NOISE_SLOTS * cpu;
    times[at + NOISE_NS] = times[at + NOISE_NS]! + sign * len;
    this.table.intervals[cpu] = this.table.intervals[cpu]! + sign;
    if (sign > 0 && len > times[at + MAX_SINGLE_NS]!) times[at + MAX_SINGLE_NS] = len;
  }

  /** Closes open intervals at the end of the run. */
  finish(): void {
    const now = this.k.engine.now;
    for (const c of this.k.cpus) {
      const n = this.cpus[c.id]!;
      if (c.noiseSince >= 0) {
        this.account(c.id, c.noiseSince, now, 1);
        c.noiseSince = -1;
      }
      if (n.ownSince >= 0) {
        this.addOwn(n, n.ownSince, now);
        n.ownSince = now;
      }
      if (this.userState[c.id] !== UserState.none) this.userState[c.id] = UserState.unknown;
    }
  }
}
