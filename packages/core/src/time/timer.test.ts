import { describe, expect, it } from "vitest";
import { buildKernel } from "../simulate.js";
import type { ScenarioSpec } from "../scenario.js";
import { lvlDepth, lvlGran, lvlStart, timerSetup, wheelExpiry } from "./timer.js";

const MS = 1_000_000;

function spec(hz: number): ScenarioSpec {
  return { name: "timer", seed: 1, duration: 10_000 * MS, warmup: 0, kernel: { preset: "linux-4.9", cpus: 2, hz, nohzFull: "1" }, workload: [] };
}

describe("timer wheel (kernel/time/timer.c, v4.8+)", () => {
  it("has the level bounds and granularities of the table in timer.c: 64 buckets a level, each level 8 times coarser", () => {
    expect([0, 1, 2, 3, 8].map(lvlGran)).toEqual([1, 8, 64, 512, 16_777_216]);
    // LVL_START(n): the first delta filed at level n (HZ 1000 table: 64 ms, 512 ms, 4096 ms, ...; the start is 63 << 3(n-1)).
    expect([1, 2, 3, 4].map(lvlStart)).toEqual([63, 504, 4032, 32_256]);
    expect(lvlDepth(1000)).toBe(9);
    expect(lvlDepth(250)).toBe(9);
    expect(lvlDepth(100)).toBe(8);
  });

  it("files a timer by its delta and fires it at its bucket's expiry: one jiffy late at level 0, up to the level's granularity above", () => {
    // Level 0 (delta < 63): bucket expires + 1.
    expect(wheelExpiry(1_003, 1_000, 1000)).toBe(1_004);
    expect(wheelExpiry(1_062, 1_000, 1000)).toBe(1_063);
    // Level 1 (63 <= delta < 504): 8-jiffy buckets, (expires + 8) rounded down to a multiple of 8.
    expect(wheelExpiry(1_063, 1_000, 1000)).toBe(1_064);
    expect(wheelExpiry(1_064, 1_000, 1000)).toBe(1_072);
    expect(wheelExpiry(1_100, 1_000, 1000)).toBe(1_104);
    // Level 2 (504 <= delta < 4032): 64-jiffy buckets. A 1 s timeout at HZ=1000 fires up to 64 ms late.
    expect(wheelExpiry(2_000, 1_000, 1000)).toBe(2_048);
    expect(wheelExpiry(2_047, 1_000, 1000)).toBe(2_048);
    expect(wheelExpiry(2_048, 1_000, 1000)).toBe(2_112);
    // Level 3 (4032 <= delta < 32256): 512-jiffy buckets.
    expect(wheelExpiry(10_000, 0, 1000)).toBe(10_240);
    // A past expiry goes in the bucket of the base clock: it runs at once.
    expect(wheelExpiry(990, 1_000, 1000)).toBe(1_000);
  });

  it("never fires a timer early, and never later than its level's granularity", () => {
    for (const hz of [100, 250, 1000]) {
      for (let delta = 0; delta < 40_000; delta += 7) {
        const clk = 12_345;
        const at = wheelExpiry(clk + delta, clk, hz);
        const lvl = [1, 2, 3, 4, 5].findIndex((n) => delta < lvlStart(n));
        expect(at).toBeGreaterThan(clk + delta);
        expect(at - (clk + delta)).toBeLessThanOrEqual(lvlGran(lvl));
      }
    }
  });

  it("HZ changes the wheel: HZ=250 files 1 s (250 jiffies) at level 1, so HZ-jiffy work runs every 1.024 s", () => {
    expect(wheelExpiry(250, 0, 250)).toBe(256);
    expect(wheelExpiry(256 + 250, 256, 250)).toBe(512);
  });

  it("clamps timeouts beyond the wheel's capacity to WHEEL_TIMEOUT_MAX (LVL_START(LVL_DEPTH) - LVL_GRAN(LVL_DEPTH - 1))", () => {
    const cutoff9 = lvlStart(9);
    expect(wheelExpiry(cutoff9 * 2, 0, 1000)).toBe(cutoff9);
    const cutoff8 = lvlStart(8);
    expect(wheelExpiry(cutoff8 * 2, 0, 100)).toBe(cutoff8);
  });

  it("a timer armed for 1 s on a CPU's base runs at its bucket's jiffy; timer->expires keeps the requested expiry", () => {
    const k = buildKernel(spec(1000));
    k.engine.runUntil(1_000 * MS + 300_000);
    let ranAt = -1;
    const t = timerSetup("probe", () => (ranAt = k.engine.now));
    k.timers.addOn(t, 0, k.engine.now + 1_000 * MS);
    expect(t.expires).toBe(2_001 * MS);
    expect(t.fires).toBe(2_048 * MS);
    k.engine.runUntil(2_047 * MS);
    expect(ranAt).toBe(-1);
    expect(k.timers.pending(t)).toBe(true);
    k.engine.runUntil(2_049 * MS);
    expect(ranAt).toBeGreaterThanOrEqual(2_048 * MS);
    expect(ranAt).toBeLessThan(2_048 * MS + 100_000);
    expect(k.timers.pending(t)).toBe(false);
  });

  it("keeps each base in bucket order: a later expiry in a finer level can run before an earlier one in a coarser level's bucket", () => {
    const k = buildKernel(spec(1000));
    k.engine.runUntil(1_000 * MS + 1);
    const order: string[] = [];
    const far = timerSetup("far", () => order.push("far"));
    const near = timerSetup("near", () => order.push("near"));
    // Armed at 1000 for 1600: delta 600, level 2, bucket 1664. Armed at 1200 for 1610: delta 410, level 1, bucket 1616.
    k.timers.addOn(far, 0, 1_600 * MS);
    k.engine.runUntil(1_200 * MS + 1);
    k.timers.addOn(near, 0, 1_610 * MS);
    expect(far.fires).toBe(1_664 * MS);
    expect(near.fires).toBe(1_616 * MS);
    k.engine.runUntil(1_700 * MS);
    expect(order).toEqual(["near", "far"]);
  });
});
