/** A line of a trace that none of the parsers accepts: names the file, the line number and what is wrong. */
export class TraceLineError extends Error {
  constructor(
    /** The file (or input name) the line is in. */
    readonly file: string,
    /** The 1-based line number. */
    readonly line: number,
    /** What is wrong with the line and what is valid there. */
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
    this.name = "TraceLineError";
  }
}

/** Shows at most `max` characters of a line in a message, quoted. */
export function quoteLine(s: string, max = 80): string {
  const t = s.length > max ? `${s.slice(0, max)}…` : s;
  return JSON.stringify(t);
}
