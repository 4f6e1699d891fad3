import { describe, expect, it } from "vitest";
import { Engine, EventPriority } from "./engine.js";
import { Prng } from "./prng.js";
import { EventQueue } from "./queue.js";

/** The engine's scheduling API, as the random program below uses it. */
interface Scheduler {
  now: number;
  register(name: string, handler: (cpu: number, arg: number) => void): number;
  schedule(at: number, kind: number, cpu?: number, arg?: number, priority?: number): number;
  cancel(handle: number): void;
  runUntil(t: number): void;
}

/** Obviously correct reference: an unsorted list scanned for the least (time, priority, sequence). */
class NaiveEngine implements Scheduler {
  now = 0;
  private readonly handlers: ((cpu: number, arg: number) => void)[] = [];
  private list: { t: number; p: number; s: number; kind: number; cpu: number; arg: number }[] = [];
  private seq = 0;
  register(_name: string, handler: (cpu: number, arg: number) => void): number {
    return this.handlers.push(handler) - 1;
  }
  schedule(at: number, kind: number, cpu = 0, arg = 0, priority: number = EventPriority.hardware): number {
    this.list.push({ t: Math.max(at, this.now), p: priority, s: ++this.seq, kind, cpu, arg });
    return this.seq;
  }
  cancel(handle: number): void {
    this.list = this.list.filter((e) => e.s !== handle);
  }
  runUntil(until: number): void {
    for (;;) {
      let best = -1;
      this.list.forEach((e, i) => {
        const b = this.list[best];
        if (!b || e.t < b.t || (e.t === b.t && (e.p < b.p || (e.p === b.p && e.s < b.s)))) best = i;
      });
      const e = this.list[best];
      if (!e || e.t > until) break;
      this.list.splice(best, 1);
      this.now = e.t;
      this.handlers[e.kind]!(e.cpu, e.arg);
    }
    this.now = Math.max(this.now, until);
  }
}

/** Random schedules (ties, near and far times, all priorities), cancellations and re-arms; returns the stream. */
function randomProgram(e: Scheduler, seed: number): string[] {
  const rnd = new Prng(seed);
  const handles: number[] = [];
  const stream: string[] = [];
  const prios = [EventPriority.hardware, EventPriority.timer, EventPriority.workload, EventPriority.late, 0, 1023];
  let id = 0;
  const act = (): void => {
    const r = rnd.intInclusive(9);
    if (r < 5) {
      const span = [0, 3, 1000, 2 ** 20, 2 ** 34][r]!;
      handles.push(e.schedule(e.now + rnd.intInclusive(span), kind, id % 5, id++, prios[rnd.intInclusive(prios.length - 1)]!));
    } else if (r < 8 && handles.length > 0) {
      e.cancel(handles[rnd.intInclusive(handles.length - 1)]!);
    } else if (r === 8 && handles.length > 0) {
      const i = rnd.intInclusive(handles.length - 1);
      e.cancel(handles[i]!);
      handles[i] = e.schedule(e.now + rnd.intInclusive(5000), kind, 9, id++, EventPriority.timer);
    }
  };
  const kind = e.register("random", (cpu, arg) => {
    stream.push(`${e.now}:${cpu}:${arg}`);
    for (let i = rnd.intInclusive(3); i > 0; i--) act();
  });
  for (let i = 0; i < 2000; i++) act();
  for (let step = 1; step <= 30; step++) {
    e.runUntil(step * 2 ** 25);
    for (let i = 0; i < 100; i++) act();
  }
  e.runUntil(2 ** 40);
  return stream;
}

describe("Engine", () => {
  it("runs events in (time, priority, sequence) order", () => {
    const e = new Engine(1);
    const seen: string[] = [];
    const k = e.register("mark", (cpu, arg) => seen.push(`${e.now}:${cpu}:${arg}`));
    e.schedule(20, k, 0, 1);
    e.schedule(10, k, 1, 2, EventPriority.late);
    e.schedule(10, k, 2, 3, EventPriority.hardware);
    e.schedule(10, k, 3, 4, EventPriority.hardware);
    e.runUntil(100);
    expect(seen).toEqual(["10:2:3", "10:3:4", "10:1:2", "20:0:1"]);
    expect(e.now).toBe(100);
    expect(e.events).toBe(4);
  });

  it("skips cancelled events", () => {
    const e = new Engine(1);
    let n = 0;
    const k = e.register("count", () => n++);
    const h = e.schedule(5, k);
    e.schedule(6, k);
    e.cancel(h);
    e.runUntil(10);
    expect(n).toBe(1);
    expect(e.events).toBe(1);
  });

  it("keeps order across heap growth with many pending events", () => {
    const e = new Engine(7);
    const times: number[] = [];
    const k = e.register("t", () => times.push(e.now));
    for (let i = 0; i < 5000; i++) e.schedule(e.prng.intInclusive(1_000_000), k);
    e.runUntil(2_000_000);
    expect(times.length).toBe(5000);
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]!);
  });

  it("gives the same digest for the same seed and a different one for another seed", () => {
    const run = (seed: number): string => {
      const e = new Engine(seed);
      const k = e.register("r", () => {
        if (e.now < 1_000_000) e.schedule(e.now + 1 + e.prng.intInclusive(1000), k);
      });
      e.schedule(0, k);
      e.runUntil(2_000_000);
      return e.digest();
    };
    expect(run(1)).toBe(run(1));
    expect(run(1)).not.toBe(run(2));
  });
  it("runs an event scheduled now at a lower priority before the rest of the instant", () => {
    const e = new Engine(1);
    const seen: number[] = [];
    const k = e.register("mark", (_cpu, arg) => {
      seen.push(arg);
      if (arg === 1) e.schedule(e.now, k, 0, 3, EventPriority.hardware);
    });
    e.schedule(10, k, 0, 1, EventPriority.timer);
    e.schedule(10, k, 0, 2, EventPriority.late);
    e.runUntil(10);
    expect(seen).toEqual([1, 3, 2]);
  });

  it("cancels the event at the head, and a re-scheduled replacement runs once", () => {
    const e = new Engine(1);
    const seen: string[] = [];
    const k = e.register("mark", (_cpu, arg) => seen.push(`${e.now}:${arg}`));
    const head = e.schedule(5, k, 0, 1);
    e.schedule(7, k, 0, 2);
    expect(e.pending).toBe(2);
    e.cancel(head);
    e.cancel(head);
    expect(e.pending).toBe(1);
    const again = e.schedule(5, k, 0, 3);
    expect(again).not.toBe(head);
    e.runUntil(10);
    expect(seen).toEqual(["5:3", "7:2"]);
    expect(e.pending).toBe(0);
  });

  it("re-arms like a clock event device: cancel then schedule, many times, leaves one event", () => {
    const e = new Engine(1);
    let fired = 0;
    const k = e.register("clockevent", () => fired++);
    let handle = 0;
    for (let i = 0; i < 10_000; i++) {
      e.cancel(handle);
      handle = e.schedule(1_000_000 + (i % 977), k);
      expect(handle).toBeGreaterThan(0);
    }
    expect(e.pending).toBe(1);
    e.runUntil(2_000_000);
    expect(fired).toBe(1);
    expect(e.now).toBe(2_000_000);
  });

  it("ignores cancelling an event that already ran, is running, or never existed", () => {
    const e = new Engine(1);
    const seen: number[] = [];
    let self = 0;
    const k = e.register("mark", (_cpu, arg) => {
      seen.push(arg);
      e.cancel(self);
    });
    const first = e.schedule(1, k, 0, 1);
    e.runUntil(1);
    self = e.schedule(2, k, 0, 2);
    const later = e.schedule(3, k, 0, 3);
    e.cancel(first);
    e.cancel(0);
    e.cancel(-4);
    e.cancel(1.5);
    e.cancel(later + 1000);
    e.runUntil(10);
    expect(seen).toEqual([1, 2, 3]);
  });

  it("lets a handler schedule zero, one or several events, each after what was due first", () => {
    const e = new Engine(1);
    const seen: string[] = [];
    const k = e.register("fan", (cpu, arg) => {
      seen.push(`${e.now}:${cpu}:${arg}`);
      if (arg > 0) for (let i = 0; i < cpu; i++) e.schedule(e.now + 1 + i, k, cpu, arg - 1);
    });
    e.schedule(0, k, 0, 3);
    e.schedule(0, k, 1, 3);
    e.schedule(0, k, 2, 2);
    e.runUntil(100);
    expect(seen).toEqual([
      "0:0:3", "0:1:3", "0:2:2",
      "1:1:2", "1:2:1", "2:2:1", "2:1:1", "2:2:0", "3:2:0", "3:2:0", "3:1:0", "4:2:0",
    ]);
    expect(e.events).toBe(12);
  });

  it("runs the same stream as a naive list engine on random schedules, cancellations and re-arms", () => {
    for (const seed of [1, 2, 3]) {
      const fast = randomProgram(new Engine(seed), seed);
      const naive = randomProgram(new NaiveEngine(), seed);
      expect(fast.length).toBeGreaterThan(3000);
      expect(fast).toEqual(naive);
    }
  });

  it("digests the stream: same seed, same digest; any change of time, kind, cpu or argument changes it", () => {
    const run = (mutate: (i: number, t: number, kind: number, cpu: number, arg: number) => [number, number, number, number]): string => {
      const e = new Engine(1);
      const kinds = [e.register("a", () => {}), e.register("b", () => {})];
      for (let i = 0; i < 50; i++) {
        const [t, kind, cpu, arg] = mutate(i, 1000 + i * 10, kinds[i % 2]!, i % 4, i * 3);
        e.schedule(t, kind, cpu, arg);
      }
      e.runUntil(1_000_000);
      return e.digest();
    };
    const base = run((_i, t, k, c, a) => [t, k, c, a]);
    expect(run((_i, t, k, c, a) => [t, k, c, a])).toBe(base);
    const variants = [
      run((i, t, k, c, a) => [i === 20 ? t + 1 : t, k, c, a]),
      run((i, t, k, c, a) => [t, i === 20 ? 1 - k : k, c, a]),
      run((i, t, k, c, a) => [t, k, i === 20 ? c + 1 : c, a]),
      run((i, t, k, c, a) => [t, k, c, i === 20 ? a + 1 : a]),
      run((i, t, k, c, a) => [t, k, c, i === 20 ? a + 2 ** 32 : a]),
      run((i, t, k, c, a) => [i === 20 ? t + 2 ** 32 : t, k, c, a]),
    ];
    for (const v of variants) expect(v).not.toBe(base);
    expect(new Set(variants).size).toBe(variants.length);
  });

  it("keeps events at Infinity pending and rejects a time that is not a number", () => {
    const e = new Engine(1);
    let n = 0;
    const k = e.register("never", () => n++);
    e.schedule(Infinity, k);
    e.schedule(5, k);
    e.runUntil(Infinity);
    expect(n).toBe(1);
    expect(e.pending).toBe(1);
    expect(() => e.schedule(NaN, k)).toThrow("schedule: time NaN is not a number of nanoseconds");
    expect(() => e.schedule(1, 99)).toThrow("schedule: event kind 99 is not registered (valid: 0-0");
    expect(() => e.schedule(1, k, 0, 0, 1024)).toThrow("schedule: priority 1024 is out of range (valid: 0-1023");
  });

  it("refuses runUntil from inside a handler", () => {
    const e = new Engine(1);
    const k = e.register("nested", () => e.runUntil(100));
    e.schedule(1, k);
    expect(() => e.runUntil(10)).toThrow("runUntil(100): called from an event handler at 1 ns");
  });
});

describe("EventQueue", () => {
  it("takes events in (time, priority, sequence) order, also one pushed before the time last peeked", () => {
    const q = new EventQueue(4);
    const order: number[] = [];
    q.push(200, 20, 0, 0, 1);
    q.push(100, 20, 0, 0, 2);
    expect(q.peekTime()).toBe(100);
    q.push(50, 20, 0, 0, 3);
    q.push(100, 10, 0, 0, 4);
    q.push(2 ** 40 + 7, 20, 0, 0, 5);
    while (q.peekTime() < Infinity) order.push(q.argOf(q.take()));
    expect(order).toEqual([3, 4, 2, 1, 5]);
    expect(q.size).toBe(0);
  });
});

describe("Prng", () => {
  it("draws uniformly within bounds", () => {
    const p = new Prng(42);
    let sum = 0;
    for (let i = 0; i < 10000; i++) {
      const v = p.intInclusive(10);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(10);
      sum += v;
    }
    expect(sum / 10000).toBeGreaterThan(4.7);
    expect(sum / 10000).toBeLessThan(5.3);
  });
});

describe("Engine.runBefore", () => {
  it("processes a half-open window: an event due exactly at the end is left pending", () => {
    const e = new Engine(1);
    const seen: number[] = [];
    const k = e.register("mark", () => seen.push(e.now));
    e.schedule(999, k);
    e.schedule(1000, k);
    e.runBefore(1000);
    expect(seen).toEqual([999]);
    expect(e.now).toBe(1000);
    expect(e.pending).toBe(1);
  });
});
