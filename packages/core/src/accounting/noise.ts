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

/**
 * Noise accounting: every interruption is counted by its source when a subsystem delivers it; the
 * user task's lost time is measured from leaving its own work to returning to it, nested and
 * back-to-back interruptions counted once.
 */
export class NoiseAccounting {
  /** Per-CPU figures. */
  readonly cpus: CpuNoise[];
  private lastClose: Nanoseconds[];
  private lastLen: Nanoseconds[];

  constructor(private readonly k: Kernel) {
    // One buffer for every CPU's counts: each CPU's array is a view of its slice.
    const nk = interruptionKeys.length;
    const all = new Int32Array(k.nrCpus * nk);
    this.cpus = Array.from({ length: k.nrCpus }, (_, cpu) => ({
      counts: all.subarray(cpu * nk, (cpu + 1) * nk),
      noiseNs: 0,
      maxSingleNs: 0,
      intervals: 0,
      hasUserTask: false,
      ownNs: 0,
      ownSince: -1,
    }));
    this.lastClose = new Array<number>(k.nrCpus).fill(-1);
    this.lastLen = new Array<number>(k.nrCpus).fill(0);
  }

  /** Counts one interruption of `cpu` by `source` starting at `at`. */
  interruption(cpu: number, source: number, at: Nanoseconds): void {
    if (at >= this.k.warmup) this.cpus[cpu]!.counts[source]!++;
  }

  /** Whether `c` is now running a user task's own work (user mode, or its own syscall). */
  private ownWork(c: Cpu): boolean {
    const t = c.curr;
    if (!t || !t.user || c.inIrq) return false;
    if (c.ctx === Context.user) return true;
    return c.running !== null && c.running.own;
  }

  /** Re-evaluates `c` after a transition: opens or closes its noise interval. */
  update(c: Cpu): void {
    const n = this.cpus[c.id]!;
    if (!n.hasUserTask) return;
    const now = this.k.engine.now;
    const own = this.ownWork(c);
    if (own) {
      if (n.ownSince < 0) n.ownSince = now;
      if (c.noiseSince >= 0) this.close(c, now);
    } else {
      if (n.ownSince >= 0) {
        this.addOwn(n, n.ownSince, now);
        n.ownSince = -1;
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
