import type { TraceRecorder } from "@isolsim/core";
import { formatFtrace, formatPerfetto } from "@isolsim/report";
import type { TraceMeta } from "@isolsim/report";

/** The trace formats of `--trace-format`. */
export const TRACE_FORMATS = ["perfetto", "ftrace"] as const;

/** One of {@link TRACE_FORMATS}. */
export type TraceFormat = (typeof TRACE_FORMATS)[number];

/** Formats recorded trace records in the asked format. */
export function formatTrace(rec: TraceRecorder, format: TraceFormat, meta: TraceMeta): string {
  return format === "ftrace" ? formatFtrace(rec.records, meta) : formatPerfetto(rec.records, meta);
}
