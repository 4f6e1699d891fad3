/** A column of a text table: a header and whether its cells are right-aligned (numbers). */
export interface Column {
  /** Header text. */
  header: string;
  /** Right-align (numbers); left-align otherwise. */
  right?: boolean;
}

/** Lays out rows under headers with columns as wide as their widest cell, two spaces apart. */
export function layoutTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string[] {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    columns
      .map((c, i) => {
        const cell = cells[i] ?? "";
        return c.right ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!);
      })
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)];
}

/** Nanoseconds as microseconds with three decimals (ns precision), as rtla prints time in us. */
export function us(ns: number): string {
  return (ns / 1000).toFixed(3);
}

/** Nanoseconds as a short human duration (`10 s`, `500 ms`, `20 us`, `150 ns`). */
export function human(ns: number): string {
  if (ns >= 1e9 && ns % 1e6 === 0) return `${ns / 1e9} s`;
  if (ns >= 1e6 && ns % 1e3 === 0) return `${ns / 1e6} ms`;
  if (ns >= 1e3) return `${ns / 1e3} us`;
  return `${ns} ns`;
}

/** Median of sorted numbers (lower middle for even counts, so it is always a member). */
export function median(sorted: readonly number[]): number {
  return sorted.length === 0 ? 0 : sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** Compresses sorted CPU numbers into the kernel's list syntax (`1-3,5`). */
export function cpuList(cpus: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < cpus.length; ) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j]! + 1) j++;
    parts.push(j > i ? `${cpus[i]}-${cpus[j]}` : `${cpus[i]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/**
 * The shortest kernel list (bitmap_parselist() syntax) of sorted CPUs: {@link cpuList}, or one
 * `start-end:used/group` region when the CPUs follow such a pattern (`1-1017:1/8` for every 8th CPU from 1).
 */
export function cpuListShort(cpus: readonly number[]): string {
  const plain = cpuList(cpus);
  if (cpus.length < 3) return plain;
  const start = cpus[0]!;
  const end = cpus[cpus.length - 1]!;
  for (let group = 2; group <= Math.min(64, end - start); group++) {
    let used = 0;
    while (used < group && cpus[used] === start + used) used++;
    if (used >= group) continue;
    let i = 0;
    let ok = true;
    for (let x = start; x <= end && ok; x++) {
      if ((x - start) % group < used) ok = cpus[i++] === x;
    }
    if (ok && i === cpus.length) {
      const region = `${start}-${end}:${used}/${group}`;
      return region.length < plain.length ? region : plain;
    }
  }
  return plain;
}

// C0 controls, DEL, C1 controls, the line/paragraph separators and the bidi overrides.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** A user string (scenario name, description, ...) made inert on a terminal: control characters escaped (`\n`, `\u001b`). */
export function printable(s: string): string {
  return s.replace(CONTROL, (c) => (c === "\n" ? "\\n" : c === "\r" ? "\\r" : c === "\t" ? "\\t" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
}
