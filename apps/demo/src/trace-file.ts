import type { Kernel, Segment, TraceRecorder } from "@isolsim/core";
import { formatFtrace, formatPerfetto } from "@isolsim/report";
import type { TraceMeta } from "@isolsim/report";

/** The trace formats of `--trace-format`. */
export const TRACE_FORMATS = ["perfetto", "ftrace"] as const;

/** One of {@link TRACE_FORMATS}. */
export type TraceFormat = (typeof TRACE_FORMATS)[number];

/**
 * Records what was still executing when the run ended (started segments, open user runs) as
 * slices ending at the end of the run, so that every counted interruption is in the trace.
 */
export function completeTrace(k: Kernel, rec: TraceRecorder, end: number): void {
  const started = (s: Segment): boolean => s.startedAt >= 0 && s.startedAt <= end;
  for (const c of k.cpus) {
    for (const s of c.irqQueue) if (started(s)) rec.segment(c.id, s, end);
    if (c.userSince >= 0 && c.userSince < end) rec.slice(c.id, c.curr?.name ?? "user", "user", c.userSince, end);
  }
  for (const t of k.sched.tasks) for (const s of t.segs) if (started(s)) rec.segment(t.cpu, s, end);
}

/** Formats recorded trace records in the asked format. */
export function formatTrace(rec: TraceRecorder, format: TraceFormat, meta: TraceMeta): string {
  return format === "ftrace" ? formatFtrace(rec.records, meta) : formatPerfetto(rec.records, meta);
}
