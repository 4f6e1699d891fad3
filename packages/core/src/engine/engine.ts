import { StreamDigest } from "./digest.js";
import { Prng } from "./prng.js";
import { EventQueue } from "./queue.js";

/** Time in integer nanoseconds since boot of the simulated machine. */
export type Nanoseconds = number;

/** A handler of one kind of event: `cpu` and `arg` are the integers given to {@link Engine.schedule}. */
export type EventHandler = (cpu: number, arg: number) => void;

/** Priorities among events due at the same instant: lower runs first. */
export const EventPriority = {
  /** Hardware-level events: interrupt arrival, completion of a running segment. */
  hardware: 10,
  /** Timer expiry (hrtimers, clock event devices). */
  timer: 20,
  /** Workload actions (a task's next syscall, a periodic caller). */
  workload: 50,
  /** Bookkeeping that must see everything else of the instant first. */
  late: 100,
} as const;

/**
 * The deterministic discrete-event engine: one queue ordered by (time, priority, sequence),
 * one seeded PRNG and a digest of the processed event stream.
 */
export class Engine {
  /** Current simulated time. */
  now: Nanoseconds = 0;
  /** Number of events processed (cancelled ones excluded). */
  events = 0;
  /** The scenario's single source of randomness. */
  readonly prng: Prng;
  private readonly queue = new EventQueue(1024);
  private readonly handlers: EventHandler[] = [];
  private readonly names: string[] = [];
  private readonly cancelled = new Set<number>();
  private readonly digestState = new StreamDigest();
  private seq = 0;
  private readonly out = new Float64Array(5);

  constructor(seed: number) {
    this.prng = new Prng(seed);
  }

  /** Registers an event kind; returns its id for {@link schedule}. Names appear in traces and errors. */
  register(name: string, handler: EventHandler): number {
    this.handlers.push(handler);
    this.names.push(name);
    return this.handlers.length - 1;
  }

  /** Name of an event kind. */
  kindName(kind: number): string {
    return this.names[kind] ?? `kind#${kind}`;
  }

  /** Schedules an event at absolute time `at` (not before now); returns a handle for {@link cancel}. */
  schedule(at: Nanoseconds, kind: number, cpu = 0, arg = 0, priority: number = EventPriority.hardware): number {
    const seq = ++this.seq;
    this.queue.push(at < this.now ? this.now : at, priority, seq, kind, cpu, arg);
    return seq;
  }

  /** Cancels a pending event by handle; cancelling an event that already ran is a no-op. */
  cancel(handle: number): void {
    if (handle > 0) this.cancelled.add(handle);
  }

  /** Number of pending events (cancelled ones included until they reach the head). */
  get pending(): number {
    return this.queue.size;
  }

  /** Processes events until the next one is later than `until`; time then stands at `until`. */
  runUntil(until: Nanoseconds): void {
    const q = this.queue, out = this.out, handlers = this.handlers, cancelled = this.cancelled;
    const d = this.digestState;
    while (q.peekTime() <= until) {
      q.pop(out);
      const seq = out[1]!;
      if (cancelled.size > 0 && cancelled.delete(seq)) continue;
      const time = out[0]!, kind = out[2]!, cpu = out[3]!, arg = out[4]!;
      this.now = time;
      this.events++;
      d.event(time, kind, cpu, arg);
      handlers[kind]!(cpu, arg);
    }
    if (until > this.now) this.now = until;
  }

  /** Hex digest of every event processed so far (time, kind, cpu, argument, in order). */
  digest(): string {
    return this.digestState.hex();
  }
}
