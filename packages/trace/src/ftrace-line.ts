/** One event line of ftrace text (kernel/trace/trace_output.c print_trace_fmt() and trace-cmd report). */
export interface FtraceRecord {
  /** The task's comm (`<idle>` for the idle task). */
  task: string;
  /** The task's pid (0 for idle). */
  pid: number;
  /** The CPU the event happened on. */
  cpu: number;
  /** Timestamp, ns (the trace clock's µs or ns digits, never rounded). */
  timeNs: number;
  /** The event name (`local_timer_entry`), or `function` for a function tracer line. */
  event: string;
  /** The event's fields as printed, or for `function` the traced function's name. */
  fields: string;
}

/** What one line of ftrace text is. */
export type FtraceLine =
  | {
      /** An event line. */
      kind: "event";
      /** The event. */
      record: FtraceRecord;
    }
  | {
      /** A lost-events marker. */
      kind: "lost";
      /** The CPU that lost them. */
      cpu: number;
      /** How many. */
      count: number;
    }
  | {
      /** A header giving the CPU count (`cpus=N`, `#P:N`). */
      kind: "cpus";
      /** The CPU count. */
      cpus: number;
    }
  | {
      /** A comment, header or marker without figures. */
      kind: "skip";
    };

/** A function tracer line: `flush_tlb_func <-caller` (tracefs) or `function: flush_tlb_func <-- caller` (trace-cmd). */
const FUNCTION = /^(?:function:\s+)?([\w.$]+)(?:\+0x[0-9a-f]+\/0x[0-9a-f]+)?\s+<-/;
/** An event: `name: fields`, optionally `system:name: fields`. */
const EVENT = /^(?:\w+:)?(\w+):\s*(.*)$/;
/** `CPU:3 [LOST 123 EVENTS]` (tracefs) or `CPU: 3 [123 EVENTS LOST]` (trace-cmd). */
const LOST = /^CPU:\s*(\d+)\s+\[(?:LOST (\d+) EVENTS|(\d+) EVENTS LOST)\]/;
/** Header lines that carry nothing the report needs. */
const PREAMBLE = /^(?:\s*$|\s*#|\s*=>|version = \d+|CPU \d+ is empty|#{3,}|\s*<\.\.\.>|trace-cmd:|\s*\[\s*\d+\]\s*$)/;

/** Nanoseconds of `seconds.fraction` as ftrace prints it (µs, or ns with a ns trace clock). */
export function parseTimestamp(sec: string, frac: string): number {
  const digits = frac.length >= 9 ? frac.slice(0, 9) : frac.padEnd(9, "0");
  return Number(sec) * 1e9 + Number(digits);
}

/**
 * Parses one line of ftrace text as /sys/kernel/tracing/trace (print_trace_fmt(), with or without
 * the irq-info column) or `trace-cmd report` prints it. Returns null for a line that is neither
 * an event, a header nor a known marker: the caller says which line, in which file.
 */
export function parseFtraceLine(line: string): FtraceLine | null {
  const record = parseEventLine(line);
  if (record !== undefined) return record === null ? null : { kind: "event", record };
  const cpus = /^cpus=(\d+)\s*$/.exec(line) ?? /^#\s*entries-in-buffer\/entries-written:.*#P:(\d+)/.exec(line);
  if (cpus) return { kind: "cpus", cpus: Number(cpus[1]) };
  const lost = LOST.exec(line);
  if (lost) return { kind: "lost", cpu: Number(lost[1]), count: Number(lost[2] ?? lost[3]) };
  if (PREAMBLE.test(line)) return { kind: "skip" };
  return null;
}

/** The `[cpu]` column: the first ` [digits] ` of the line (a comm holding one is misread, as trace-cmd would). */
const CPU_COLUMN = /\s\[(\d+)\]\s/;
/** After the CPU column: the optional irq-info flags, then `seconds.fraction: `. */
const AFTER_CPU = /^\s*(?:([.a-zA-Z0-9]{4,6})\s+)?(\d+)\.(\d+):\s+/;
/** Before the CPU column: `task-pid`, then an optional `(tgid)` column. */
const TASK_PID = /^\s*(.*)-(\d+)(?:\s+\(\s*(?:\d+|-+)\))?\s*$/;

/**
 * An event line (undefined when the line has no `[cpu] … timestamp:` shape at all, null when it
 * has the shape but not an event after the timestamp). Anchored regular expressions on the
 * pieces: the whole-line expression backtracked over every `-` of the task name.
 */
function parseEventLine(line: string): FtraceRecord | null | undefined {
  const c = CPU_COLUMN.exec(line);
  if (!c) return undefined;
  const tp = TASK_PID.exec(line.slice(0, c.index + 1));
  if (!tp) return undefined;
  const tail = line.slice(c.index + c[0].length - 1);
  const ts = AFTER_CPU.exec(tail);
  if (!ts) return undefined;
  const rest = tail.slice(ts[0].length);
  const f = FUNCTION.exec(rest);
  let event: string;
  let fields: string;
  if (f) {
    event = "function";
    fields = f[1]!;
  } else {
    const e = EVENT.exec(rest);
    if (!e) return null;
    event = e[1]!;
    fields = e[2]!;
  }
  return { task: tp[1]!.trim(), pid: Number(tp[2]), cpu: Number(c[1]), timeNs: parseTimestamp(ts[2]!, ts[3]!), event, fields };
}

/** Whether a line looks like ftrace text (an event line, `# tracer:` or trace-cmd's `cpus=N`), for detection by content. */
export function looksLikeFtrace(line: string): boolean {
  return /^# tracer: /.test(line) || /^cpus=\d+\s*$/.test(line) || /^version = \d+\s*$/.test(line) || parseEventLine(line) !== undefined;
}
