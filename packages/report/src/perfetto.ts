import type { ScenarioSpec, TraceRecord } from "@isolsim/core";

/** What a trace is of: a title for the machine's track group and its CPU count. */
export interface TraceMeta {
  /** Name of the machine (the trace's process): scenario, preset, seed. */
  title: string;
  /** Number of CPUs (one track each, also those with no record). */
  cpus: number;
}

/** The trace's meta of a scenario run: `isolsim NAME (PRESET, N CPUs, seed S)`, as `isolsim run --trace` and the explorer's download write it. */
export function traceMetaOf(spec: ScenarioSpec): TraceMeta {
  return { title: `isolsim ${spec.name} (${spec.kernel.preset}, ${spec.kernel.cpus} CPUs, seed ${spec.seed})`, cpus: spec.kernel.cpus };
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
  /** Start, microseconds (float, ns precision); 0 for metadata. */
  ts: number;
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

/** A slice that may handle what a flow sent: its start, end and record index. */
interface Handler {
  ts: number;
  end: number;
  seq: number;
  claimed: boolean;
}

/** Slices by `cpu:name`, in start order, for binding flows to the handler of what they sent. */
function handlerSlices(records: readonly TraceRecord[]): Map<string, Handler[]> {
  const out = new Map<string, Handler[]>();
  records.forEach((r, seq) => {
    if (r.type !== "slice" || r.cat === "user") return;
    const key = `${r.cpu}:${r.name}`;
    let list = out.get(key);
    if (!list) out.set(key, (list = []));
    list.push({ ts: r.ts, end: r.end, seq, claimed: false });
  });
  for (const list of out.values()) list.sort((a, b) => a.ts - b.ts || a.seq - b.seq);
  return out;
}

/** The first unclaimed slice named `name` on `cpu` starting at or after `at`, claimed; null when none. */
function claimHandler(handlers: Map<string, Handler[]>, cpu: number, name: string, at: number): Handler | null {
  const list = handlers.get(`${cpu}:${name}`);
  if (!list) return null;
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.ts < at) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < list.length; i++) {
    if (!list[i]!.claimed) {
      list[i]!.claimed = true;
      return list[i]!;
    }
  }
  return null;
}

/**
 * Converts trace records to Chrome trace-event JSON for ui.perfetto.dev: one track per CPU
 * (pid = machine, tid = CPU), `X` slices, `i` instants, `s`/`f` flows from cause to interrupted CPU.
 */
export function toPerfettoEvents(records: readonly TraceRecord[], meta: TraceMeta): TraceEvent[] {
  const pid = PERFETTO_PID;
  const out: TraceEvent[] = [{ ph: "M", name: "process_name", pid, tid: 0, ts: 0, args: { name: meta.title } }];
  for (let cpu = 0; cpu < meta.cpus; cpu++) {
    out.push({ ph: "M", name: "thread_name", pid, tid: cpu, ts: 0, args: { name: `CPU ${cpu}` } });
    out.push({ ph: "M", name: "thread_sort_index", pid, tid: cpu, ts: 0, args: { sort_index: cpu } });
  }
  const timed: { ns: number; rank: number; len: number; seq: number; ev: TraceEvent }[] = [];
  const handlers = handlerSlices(records);
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
      // The finish binds (bp "e") to the slice open when it is read: the handler of what was sent,
      // which may start after the arrival (interrupts off, an earlier handler still running).
      const h = claimHandler(handlers, r.to, r.name, r.end);
      const at = h ? { ns: h.ts, rank: 1, len: h.end - h.ts, seq: h.seq + 0.5 } : { ns: r.end, rank: 1, len: Infinity, seq };
      timed.push({ ...at, ev: { ph: "f", bp: "e", id, name: r.name, cat: "cause", pid, tid: r.to, ts: usOf(at.ns) } });
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
