import { StreamDigest } from "./digest.js";
import { Prng } from "./prng.js";
import { EventQueue, MAX_TIME, PRIORITY_LIMIT } from "./queue.js";

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
  private readonly digestState = new StreamDigest();
  private running = false;

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

  /**
   * Schedules an event at absolute time `at` (an earlier time runs now); returns a handle for
   * {@link cancel}: a positive integer, never 0, so callers may keep 0 for "none".
   */
  schedule(at: Nanoseconds, kind: number, cpu = 0, arg = 0, priority: number = EventPriority.hardware): number {
    if (!(at >= this.now && at <= MAX_TIME)) at = this.clampTime(at);
    if (!(kind >= 0 && kind < this.handlers.length)) throw this.badKind(kind);
    if (!(priority >= 0 && priority < PRIORITY_LIMIT)) throw this.badPriority(priority);
    return this.queue.push(at, priority, kind, cpu, arg);
  }

  /** Cancels a pending event by handle; cancelling an event that already ran, or 0, is a no-op. */
  cancel(handle: number): void {
    this.queue.cancel(handle);
  }

  /** Number of pending events (cancelled ones and the one being handled excluded). */
  get pending(): number {
    return this.queue.size;
  }

  /**
   * Processes events until the next one is later than `until`; time then stands at `until`.
   * Events scheduled at Infinity stay pending for ever.
   */
  runUntil(until: Nanoseconds): void {
    if (this.running) throw new Error(`runUntil(${until}): called from an event handler at ${this.now} ns (valid: only between events)`);
    const q = this.queue, handlers = this.handlers, d = this.digestState;
    const limit = until < Infinity ? until : Number.MAX_VALUE;
    this.running = true;
    try {
      for (;;) {
        const time = q.peekTime(limit);
        if (time > limit) break;
        const slot = q.take();
        const kind = q.kindOf(slot), cpu = q.cpuOf(slot), arg = q.argOf(slot);
        this.now = time;
        this.events++;
        d.event(time, kind, cpu, arg);
        handlers[kind]!(cpu, arg);
      }
    } finally {
      this.running = false;
    }
    if (until > this.now) this.now = until;
  }

  /** Processes every event strictly before `end` (a half-open window); time then stands at `end`. */
  runBefore(end: Nanoseconds): void {
    this.runUntil(end - 1);
    if (end > this.now) this.now = end;
  }

  /** Hex digest of every event processed so far (time, kind, cpu, argument, in order). */
  digest(): string {
    return this.digestState.hex();
  }

  private clampTime(at: Nanoseconds): Nanoseconds {
    if (at < this.now) return this.now;
    if (at === Infinity) return at;
    throw new Error(`schedule: time ${at} is not a number of nanoseconds (valid: an integer up to 2^53 - 1 or Infinity; earlier times run now, at ${this.now})`);
  }

  private badKind(kind: number): Error {
    return new Error(`schedule: event kind ${kind} is not registered (valid: 0-${this.handlers.length - 1}, from register())`);
  }

  private badPriority(priority: number): Error {
    return new Error(`schedule: priority ${priority} is out of range (valid: 0-${PRIORITY_LIMIT - 1}, see EventPriority)`);
  }
}
