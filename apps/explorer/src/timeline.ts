/**
 * The timeline of the isolated CPUs: the interruptions the trace recorder recorded in the first
 * seconds of a run, each with the flow from the CPU that caused it (an IPI's sender,
 * `lru_add_drain_all()`'s caller), bound as the Perfetto formatter binds them.
 */
import { TraceRecorder } from "@isolsim/core";
import type { Nanoseconds, Segment, TraceRecord } from "@isolsim/core";

/**
 * A trace recorder that keeps only what starts before `windowNs` (the timeline's first seconds),
 * so a long run on 1024 CPUs holds and posts a bounded trace.
 */
export class WindowRecorder extends TraceRecorder {
  constructor(
    /** Records starting at or after this time (ns) are dropped. */
    readonly windowNs: Nanoseconds,
  ) {
    super();
  }

  /** {@inheritDoc TraceSink.slice} */
  override slice(cpu: number, name: string, cat: string, start: Nanoseconds, end: Nanoseconds): void {
    if (start < this.windowNs) super.slice(cpu, name, cat, start, end);
  }

  /** {@inheritDoc TraceSink.segment} */
  override segment(cpu: number, seg: Segment, end: Nanoseconds): void {
    if (seg.startedAt < this.windowNs) super.segment(cpu, seg, end);
  }

  /** {@inheritDoc TraceSink.instant} */
  override instant(cpu: number, name: string, ts: Nanoseconds): void {
    if (ts < this.windowNs) super.instant(cpu, name, ts);
  }

  /** {@inheritDoc TraceSink.flow} */
  override flow(from: number, to: number, ts: Nanoseconds, end: Nanoseconds, name: string): void {
    if (ts < this.windowNs) super.flow(from, to, ts, end, name);
  }
}

/** What caused an interruption: the flow from the sending CPU. */
export interface Cause {
  /** CPU that sent it. */
  from: number;
  /** When it was sent, ns. */
  sentNs: number;
  /** What was sent (the handler's name). */
  name: string;
}

/** One counted interruption drawn on the timeline. */
export interface Mark {
  /** CPU it interrupted. */
  cpu: number;
  /** The report's interruptions key. */
  source: string;
  /** Handler, work function or kthread that ran. */
  name: string;
  /** Start, ns. */
  ts: number;
  /** End, ns. */
  end: number;
  /** The flow that brought it, when another CPU caused it. */
  cause: Cause | null;
}

/**
 * The counted interruptions (slices with a source) on `cpus`, sorted by CPU then time, each bound
 * to its cause: a flow to the CPU binds to the first not yet bound slice of the same name that
 * starts at or after the flow's arrival (as `toPerfettoEvents` in @isolsim/report does).
 */
export function timelineMarks(records: readonly TraceRecord[], cpus: ReadonlySet<number>): Mark[] {
  const marks: Mark[] = [];
  const byHandler = new Map<string, Mark[]>();
  for (const r of records) {
    if (r.type !== "slice" || r.source === null || !cpus.has(r.cpu)) continue;
    const m: Mark = { cpu: r.cpu, source: r.source, name: r.name, ts: r.ts, end: r.end, cause: null };
    marks.push(m);
    const key = `${r.cpu}:${r.name}`;
    let list = byHandler.get(key);
    if (!list) byHandler.set(key, (list = []));
    list.push(m);
  }
  for (const list of byHandler.values()) list.sort((a, b) => a.ts - b.ts);
  for (const r of records) {
    if (r.type !== "flow" || !cpus.has(r.to)) continue;
    const list = byHandler.get(`${r.to}:${r.name}`);
    if (!list) continue;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.ts < r.end) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < list.length; i++) {
      if (list[i]!.cause === null) {
        list[i]!.cause = { from: r.from, sentNs: r.ts, name: r.name };
        break;
      }
    }
  }
  marks.sort((a, b) => a.cpu - b.cpu || a.ts - b.ts);
  return marks;
}

/** The marks on `cpu` within `toleranceNs` of time `ns` (what one pointer position covers), in time order. */
export function marksNear(marks: readonly Mark[], cpu: number, ns: number, toleranceNs: number): Mark[] {
  // Marks are sorted by (cpu, ts): find the first of `cpu` that could end within reach, then walk.
  let lo = 0;
  let hi = marks.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const m = marks[mid]!;
    if (m.cpu < cpu || (m.cpu === cpu && m.ts < ns - toleranceNs)) lo = mid + 1;
    else hi = mid;
  }
  // A long mark that started earlier may still cover the pointer.
  while (lo > 0 && marks[lo - 1]!.cpu === cpu && marks[lo - 1]!.end >= ns - toleranceNs) lo--;
  const out: Mark[] = [];
  for (let i = lo; i < marks.length; i++) {
    const m = marks[i]!;
    if (m.cpu !== cpu || m.ts > ns + toleranceNs) break;
    if (m.end >= ns - toleranceNs) out.push(m);
  }
  return out;
}
