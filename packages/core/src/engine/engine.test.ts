import { describe, expect, it } from "vitest";
import { Engine, EventPriority } from "./engine.js";
import { Prng } from "./prng.js";

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
