/** The /proc/interrupts rows isolsim cross-checks against a trace (arch/x86/kernel/irq.c arch_show_interrupts()). */
export const INTERRUPT_ROWS = ["LOC", "RES", "CAL", "TLB", "IWI", "SPU"] as const;

/** One /proc/interrupts row name of {@link INTERRUPT_ROWS}. */
export type InterruptRow = (typeof INTERRUPT_ROWS)[number];

/** One snapshot of /proc/interrupts: the cross-checked rows, one count per CPU column. */
export interface InterruptsSnapshot {
  /** CPU numbers of the columns (`CPU0 CPU1 …`; an offline CPU has no column). */
  cpus: number[];
  /** Counts by row name, one per column (rows absent from the snapshot are absent here). */
  rows: Partial<Record<InterruptRow, number[]>>;
}

/** The column header of /proc/interrupts (show_interrupts(): `CPU%-8d` per online CPU). */
const HEADER = /^\s*CPU(\d+)(?:\s+CPU\d+)*\s*$/;
/** A row: a name and a colon, then counts (then a description). */
const ROW = /^\s*([\w-]+):(.*)$/;

/** Whether a line is the header that starts a /proc/interrupts snapshot. */
export function looksLikeInterrupts(line: string): boolean {
  return HEADER.test(line);
}

/** Parses /proc/interrupts text, one or more snapshots one after another, fed line by line. */
export class InterruptsParser {
  /** The snapshots in order. */
  readonly snapshots: InterruptsSnapshot[] = [];

  /** Parses one line; returns what is wrong with it, or null. */
  line(text: string): string | null {
    if (text.trim() === "") return null;
    if (HEADER.test(text)) {
      const cpus = [...text.matchAll(/CPU(\d+)/g)].map((m) => Number(m[1]));
      this.snapshots.push({ cpus, rows: {} });
      return null;
    }
    const m = ROW.exec(text);
    if (!m) return `not a /proc/interrupts row (valid: "NAME:" then one count per CPU column, or the "CPU0 CPU1 …" header)`;
    const snap = this.snapshots[this.snapshots.length - 1];
    if (!snap) return `row before the "CPU0 CPU1 …" header of a /proc/interrupts snapshot`;
    const name = m[1]!;
    if (!(INTERRUPT_ROWS as readonly string[]).includes(name)) return null;
    const counts = m[2]!.trim().split(/\s+/).slice(0, snap.cpus.length).map(Number);
    if (counts.length < snap.cpus.length || counts.some((n) => !Number.isSafeInteger(n) || n < 0)) {
      return `${name}: want ${snap.cpus.length} counts (one per CPU column), got ${JSON.stringify(m[2]!.trim().slice(0, 60))}`;
    }
    snap.rows[name as InterruptRow] = counts;
    return null;
  }
}

/** Per-CPU counts of the cross-checked rows: after − before with two snapshots (since boot with one). */
export interface InterruptsDelta {
  /** Whether these are differences of two snapshots (false: counts since boot of one snapshot). */
  delta: boolean;
  /** Per CPU (by CPU number), the rows. */
  cpus: Map<number, Partial<Record<InterruptRow, number>>>;
}

/** The counts to cross-check: the difference of the last two snapshots, or the one snapshot's counts. */
export function interruptsDelta(snapshots: readonly InterruptsSnapshot[]): InterruptsDelta | null {
  const after = snapshots[snapshots.length - 1];
  if (!after) return null;
  const before = snapshots.length >= 2 ? snapshots[snapshots.length - 2]! : null;
  const cpus = new Map<number, Partial<Record<InterruptRow, number>>>();
  after.cpus.forEach((cpu, col) => {
    const row: Partial<Record<InterruptRow, number>> = {};
    for (const name of INTERRUPT_ROWS) {
      const a = after.rows[name]?.[col];
      if (a === undefined) continue;
      const bcol = before ? before.cpus.indexOf(cpu) : -1;
      const b = before && bcol >= 0 ? before.rows[name]?.[bcol] : 0;
      if (b === undefined) continue;
      row[name] = a - b;
    }
    cpus.set(cpu, row);
  });
  return { delta: before !== null, cpus };
}
