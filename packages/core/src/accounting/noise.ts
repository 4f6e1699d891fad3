import type { Nanoseconds } from "../engine/engine.js";
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

/** Every CPU's noise figures in typed arrays indexed by CPU, so a CPU's {@link CpuNoise} holds no boxed numbers. */
class NoiseTable {
  /** noiseNs, maxSingleNs, ownNs, ownSince of CPU c at 4c..4c+3. */
  readonly times: Float64Array;
  /** intervals of CPU c at c. */
  readonly intervals: Int32Array;
  /** hasUserTask of CPU c at c. */
  readonly hasUserTask: Uint8Array;
  /** counts of CPU c at c × interruptionKeys.length. */
  readonly counts: Int32Array;

  constructor(n: number) {
    this.times = new Float64Array(4 * n);
    this.intervals = new Int32Array(n);
    this.hasUserTask = new Uint8Array(n);
    this.counts = new Int32Array(n * interruptionKeys.length);
    for (let cpu = 0; cpu < n; cpu++) this.times[4 * cpu + 3] = -1;
  }
}

/** One CPU's {@link CpuNoise}: accessors over its {@link NoiseTable} slots. */
class CpuNoiseOf implements CpuNoise {
  constructor(
    private readonly t: NoiseTable,
    private readonly cpu: number,
  ) {}

  /** A view of the CPU's slice of the interruption counts (a new view on each read). */
  get counts(): Int32Array {
    const n = interruptionKeys.length;
    return this.t.counts.subarray(this.cpu * n, (this.cpu + 1) * n);
  }

  get noiseNs(): Nanoseconds {
    return this.t.times[4 * this.cpu]!;
  }

  set noiseNs(v: Nanoseconds) {
    this.t.times[4 * this.cpu] = v;
  }

  get maxSingleNs(): Nanoseconds {
    return this.t.times[4 * this.cpu + 1]!;
  }

  set maxSingleNs(v: Nanoseconds) {
    this.t.times[4 * this.cpu + 1] = v;
  }

  get ownNs(): Nanoseconds {
    return this.t.times[4 * this.cpu + 2]!;
  }

  set ownNs(v: Nanoseconds) {
    this.t.times[4 * this.cpu + 2] = v;
  }

  get ownSince(): Nanoseconds {
    return this.t.times[4 * this.cpu + 3]!;
  }

  set ownSince(v: Nanoseconds) {
    this.t.times[4 * this.cpu + 3] = v;
  }

  get intervals(): number {
    return this.t.intervals[this.cpu]!;
  }

  set intervals(v: number) {
    this.t.intervals[this.cpu] = v;
  }

  get hasUserTask(): boolean {
    return this.t.hasUserTask[this.cpu] === 1;
  }

  set hasUserTask(v: boolean) {
    this.t.hasUserTask[this.cpu] = v ? 1 : 0;
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
  private lastClose: Nanoseconds[];
  private lastLen: Nanoseconds[];

  constructor(private readonly k: Kernel) {
    const table = new NoiseTable(k.nrCpus);
    this.table = table;
    this.countsAll = table.counts;
    this.cpus = Array.from({ length: k.nrCpus }, (_, cpu) => new CpuNoiseOf(table, cpu));
    this.lastClose = new Array<number>(k.nrCpus).fill(-1);
    this.lastLen = new Array<number>(k.nrCpus).fill(0);
  }

  /** Counts one interruption of `cpu` by `source` starting at `at`. */
  interruption(cpu: number, source: number, at: Nanoseconds): void {
    if (at >= this.k.warmup) this.countsAll[cpu * interruptionKeys.length + source]!++;
  }

  /** Re-evaluates `c` after a transition: opens or closes its noise interval. */
  update(c: Cpu): void {
    const cpu = c.id;
    const table = this.table;
    if (table.hasUserTask[cpu] === 0) return;
    const now = this.k.engine.now;
    // Own work: a user task of this CPU in user mode, or running its own syscall.
    const t = c.curr;
    const own = t !== null && t.user && !c.inIrq && (c.ctx === Context.user || (c.running !== null && c.running.own));
    const times = table.times;
    const ownAt = 4 * cpu + 3;
    const ownSince = times[ownAt]!;
    if (own) {
      if (ownSince < 0) times[ownAt] = now;
      if (c.noiseSince >= 0) this.close(c, now);
    } else {
      if (ownSince >= 0) {
        const f = Math.max(ownSince, this.k.warmup);
        if (now > f) times[4 * cpu + 2] = times[4 * cpu + 2]! + (now - f);
        times[ownAt] = -1;
      }
      if (c.noiseSince < 0) this.open(c, now);
    }
  }

  private addOwn(n: CpuNoise, from: Nanoseconds, to: Nanoseconds): void {
    const f = Math.max(from, this.k.warmup);
    if (to > f) n.ownNs += to - f;
  }

  private open(c: Cpu, now: Nanoseconds): void {
    const n = this.cpus[c.id]!;
    if (this.lastClose[c.id] === now) {
      c.noiseSince = now - this.lastLen[c.id]!;
      this.account(n, c.noiseSince, now, -1);
      return;
    }
    c.noiseSince = now;
  }

  private close(c: Cpu, now: Nanoseconds): void {
    const n = this.cpus[c.id]!;
    const start = c.noiseSince;
    c.noiseSince = -1;
    this.account(n, start, now, 1);
    this.lastClose[c.id] = now;
    this.lastLen[c.id] = now - start;
  }

  private account(n: CpuNoise, start: Nanoseconds, end: Nanoseconds, sign: 1 | -1): void {
    if (start < this.k.warmup) return;
    const len = end - start;
    n.noiseNs += sign * len;
    n.intervals += sign;
    if (sign > 0 && len > n.maxSingleNs) n.maxSingleNs = len;
  }

  /** Closes open intervals at the end of the run. */
  finish(): void {
    const now = this.k.engine.now;
    for (const c of this.k.cpus) {
      const n = this.cpus[c.id]!;
      if (c.noiseSince >= 0) {
        this.account(n, c.noiseSince, now, 1);
        c.noiseSince = -1;
      }
      if (n.ownSince >= 0) {
        this.addOwn(n, n.ownSince, now);
        n.ownSince = now;
      }
    }
  }
}
