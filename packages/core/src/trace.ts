import type { Nanoseconds } from "./engine/engine.js";
import type { Kernel } from "./kernel.js";
import type { Segment } from "./machine/cpu.js";
import { Context } from "./machine/cpu.js";
import { interruptionKeys } from "./accounting/sources.js";

/** One trace record: a slice, an instant or a flow from a cause to the CPU it interrupted. */
export type TraceRecord =
  | {
      /** A span of execution. */
      type: "slice";
      /** CPU it ran on. */
      cpu: number;
      /** What ran (handler, work function, task). */
      name: string;
      /** Context category (`user`, `kernel`, `irq`, `softirq`). */
      cat: string;
      /** Start, ns. */
      ts: Nanoseconds;
      /** End, ns. */
      end: Nanoseconds;
      /** The report's interruptions key when the slice is a counted interruption, else null. */
      source: string | null;
    }
  | {
      /** A point event. */
      type: "instant";
      /** CPU it happened on. */
      cpu: number;
      /** Event name (`event: fields`). */
      name: string;
      /** When, ns. */
      ts: Nanoseconds;
    }
  | {
      /** A cause on one CPU arriving on another. */
      type: "flow";
      /** CPU that caused it (IPI sender, drain caller). */
      from: number;
      /** CPU it interrupted. */
      to: number;
      /** Sent, ns. */
      ts: Nanoseconds;
      /** Arrived, ns. */
      end: Nanoseconds;
      /** What was sent. */
      name: string;
    };

/** Where the simulation sends what it did, when tracing is asked for. */
export interface TraceSink {
  /** A span of execution on a CPU. */
  slice(cpu: number, name: string, cat: string, start: Nanoseconds, end: Nanoseconds): void;
  /** A completed segment (its start and end); it may be reused once this returns, so copy its fields rather than keep it. */
  segment(cpu: number, seg: Segment, end: Nanoseconds): void;
  /** A point event (tick stop, wakeup, invariant violation). */
  instant(cpu: number, name: string, ts: Nanoseconds): void;
  /** A cause on `from` at `ts` that arrived on `to` at `end` (IPI send → receive). */
  flow(from: number, to: number, ts: Nanoseconds, end: Nanoseconds, name: string): void;
}

const CATS: Record<number, string> = { [Context.kernel]: "kernel", [Context.irq]: "irq", [Context.softirq]: "softirq" };

/** A trace sink that keeps every record in memory, in event order (deterministic). */
export class TraceRecorder implements TraceSink {
  /** Records in the order they were produced. */
  readonly records: TraceRecord[] = [];

  /** {@inheritDoc TraceSink.slice} */
  slice(cpu: number, name: string, cat: string, start: Nanoseconds, end: Nanoseconds): void {
    this.records.push({ type: "slice", cpu, name, cat, ts: start, end, source: null });
  }

  /** {@inheritDoc TraceSink.segment} */
  segment(cpu: number, seg: Segment, end: Nanoseconds): void {
    const source = seg.source >= 0 ? (interruptionKeys[seg.source] ?? null) : null;
    this.records.push({ type: "slice", cpu, name: seg.name, cat: CATS[seg.ctx] ?? "kernel", ts: seg.startedAt, end, source });
  }

  /** {@inheritDoc TraceSink.instant} */
  instant(cpu: number, name: string, ts: Nanoseconds): void {
    this.records.push({ type: "instant", cpu, name, ts });
  }

  /** {@inheritDoc TraceSink.flow} */
  flow(from: number, to: number, ts: Nanoseconds, end: Nanoseconds, name: string): void {
    this.records.push({ type: "flow", from, to, ts, end, name });
  }
}

/**
 * Records what was still executing when the run ended (started segments on the interrupt
 * queues and of tasks, open user runs) as slices ending at `end`, so that every interruption the
 * report counts is in the trace. Call it once, after `simulate()`, before formatting.
 */
export function completeTrace(k: Kernel, sink: TraceSink, end: Nanoseconds): void {
  const started = (s: Segment): boolean => s.startedAt >= 0 && s.startedAt <= end;
  for (const c of k.cpus) {
    for (const s of c.irqQueue) if (started(s)) sink.segment(c.id, s, end);
    if (c.userSince >= 0 && c.userSince < end) sink.slice(c.id, c.curr?.name ?? "user", "user", c.userSince, end);
  }
  for (const t of k.sched.tasks) for (const s of t.segs) if (started(s)) sink.segment(t.cpu, s, end);
}
