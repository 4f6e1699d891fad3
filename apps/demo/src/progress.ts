import cliProgress from "cli-progress";

/** Where progress goes: a stream that may be a terminal. */
export interface ProgressStream {
  /** Whether the stream is a terminal (no bar otherwise). */
  isTTY?: boolean;
  /** Writes text. */
  write(s: string): boolean;
}

/** Whether a progress bar may be shown: stderr is a terminal and the output is not JSON. */
export function progressAllowed(stream: ProgressStream, json: boolean): boolean {
  return stream.isTTY === true && !json;
}

/** A progress bar on stderr that appears only once the work has taken longer than `delayMs`. */
export class DelayedProgress {
  private bar: cliProgress.SingleBar | null = null;
  private readonly started: number;

  constructor(
    private readonly stream: ProgressStream,
    private readonly enabled: boolean,
    private readonly label: string,
    private readonly delayMs = 1000,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.started = now();
  }

  /** Reports `done` of `total` units; starts the bar after the delay. */
  update(done: number, total: number): void {
    if (!this.enabled) return;
    if (!this.bar) {
      if (this.now() - this.started < this.delayMs || done >= total) return;
      this.bar = new cliProgress.SingleBar(
        { stream: this.stream as unknown as NodeJS.WritableStream, format: `${this.label} [{bar}] {percentage}% | ETA {eta_formatted}`, hideCursor: true, clearOnComplete: true },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, done);
      return;
    }
    this.bar.update(done);
  }

  /** Whether the bar has been shown. */
  get shown(): boolean {
    return this.bar !== null;
  }

  /** Removes the bar. */
  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
