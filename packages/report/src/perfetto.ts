import type { TraceRecord } from "@isolsim/core";

/** What a trace is of: a title for the machine's track group and its CPU count. */
export interface TraceMeta {
  /** Name of the machine (the trace's process): scenario, preset, seed. */
  title: string;
  /** Number of CPUs (one track each, also those with no record). */
  cpus: number;
}

/** The process id of the machine in Perfetto traces (every CPU is a thread of it). */
export const PERFETTO_PID = 1;

/** A Chrome trace-event as Perfetto reads it (the subset isolsim writes). */
export interface TraceEvent {
  /** Phase: `X` complete slice, `i` instant, `s`/`f` flow start/finish, `M` metadata. */
  ph: "X" | "i" | "s" | "f" | "M";
  /** Event name. */
  name: string;
  /** Process: the machine. */
  pid: number;
  /** Thread: the CPU. */
  tid: number;
  /** Category. */
  cat?: string;
  /** Start, microseconds (float, ns precision). */
  ts?: number;
  /** Duration of an `X` slice, microseconds. */
  dur?: number;
  /** Instant scope (`t`: the thread). */
  s?: "t";
  /** Flow id. */
  id?: number;
  /** Flow binding point (`e`: the enclosing slice). */
  bp?: "e";
  /** Arguments. */
  args?: Record<string, unknown>;
}

/** Splits a model instant name `event: fields` into its event and fields. */
export function splitEvent(name: string): {
  /** The event name (before `: `). */
  event: string;
  /** Its fields (after `: `), "" when none. */
  fields: string;
} {
  const i = name.indexOf(": ");
  return i < 0 ? { event: name, fields: "" } : { event: name.slice(0, i), fields: name.slice(i + 2) };
}

const usOf = (ns: number): number => ns / 1000;

/**
 * Converts trace records to Chrome trace-event JSON for ui.perfetto.dev: one track per CPU
 * (pid = machine, tid = CPU), `X` slices, `i` instants, `s`/`f` flows from cause to interrupted CPU.
 */
export function toPerfettoEvents(records: readonly TraceRecord[], meta: TraceMeta): TraceEvent[] {
  const pid = PERFETTO_PID;
  const out: TraceEvent[] = [{ ph: "M", name: "process_name", pid, tid: 0, args: { name: meta.title } }];
  for (let cpu = 0; cpu < meta.cpus; cpu++) {
    out.push({ ph: "M", name: "thread_name", pid, tid: cpu, args: { name: `CPU ${cpu}` } });
    out.push({ ph: "M", name: "thread_sort_index", pid, tid: cpu, args: { sort_index: cpu } });
  }
  const timed: { ns: number; rank: number; len: number; seq: number; ev: TraceEvent }[] = [];
  let flowId = 0;
  records.forEach((r, seq) => {
    if (r.type === "slice") {
      const args: Record<string, unknown> = {};
      if (r.source !== null) args.source = r.source;
      const ev: TraceEvent = { ph: "X", name: r.name, cat: r.cat, pid, tid: r.cpu, ts: usOf(r.ts), dur: usOf(r.end - r.ts) };
      if (r.source !== null) ev.args = args;
      timed.push({ ns: r.ts, rank: 1, len: r.end - r.ts, seq, ev });
    } else if (r.type === "instant") {
      const { event, fields } = splitEvent(r.name);
      const ev: TraceEvent = { ph: "i", s: "t", name: event, cat: event.startsWith("invariant") ? "invariant" : "event", pid, tid: r.cpu, ts: usOf(r.ts) };
      if (fields) ev.args = { fields };
      timed.push({ ns: r.ts, rank: 2, len: 0, seq, ev });
    } else {
      const id = ++flowId;
      timed.push({ ns: r.ts, rank: 3, len: 0, seq, ev: { ph: "s", id, name: r.name, cat: "cause", pid, tid: r.from, ts: usOf(r.ts) } });
      timed.push({ ns: r.end, rank: 0, len: 0, seq, ev: { ph: "f", bp: "e", id, name: r.name, cat: "cause", pid, tid: r.to, ts: usOf(r.end) } });
    }
  });
  timed.sort((a, b) => a.ns - b.ns || a.rank - b.rank || b.len - a.len || a.seq - b.seq);
  for (const t of timed) out.push(t.ev);
  return out;
}

/** Serialises trace records as a Perfetto-loadable JSON document, one event per line (deterministic). */
export function formatPerfetto(records: readonly TraceRecord[], meta: TraceMeta): string {
  const events = toPerfettoEvents(records, meta);
  return `{"displayTimeUnit":"ns","traceEvents":[\n${events.map((e) => JSON.stringify(e)).join(",\n")}\n]}\n`;
}
