import { describe, expect, it } from "vitest";
import { simulate } from "@isolsim/core";
import { oneshotStopped } from "@isolsim/oneshot-stopped";
import { remoteStats } from "@isolsim/remote-stats";
import { exampleScenario, runAll, runByName } from "./example.js";

describe("example-kernel", () => {
  const rows = runAll(5);
  const by = (name: string) => rows.find((r) => r.config === name)!;

  it("linux-4.9: the busy isolated CPU keeps its 1 Hz residual tick; the idle one gets a spurious timer per idle stop", () => {
    expect(by("linux-4.9")).toMatchObject({ cpu1Ticks: 4, remoteTicks: 0, violations: 0 });
    expect(by("linux-4.9").cpu7Spurious).toBeGreaterThan(10);
  });

  it("remote-stats moves the residual tick to CPU 0: 7 nohz_full CPUs × 4 s of sched_tick_remote() runs", () => {
    expect(by("+ remote-stats")).toMatchObject({ cpu1Ticks: 0, busyNoiseNs: 0, remoteTicks: 28, violations: 0 });
  });

  it("oneshot-stopped on top removes the spurious timer interrupts of idle tick stops", () => {
    expect(by("+ remote-stats, oneshot-stopped")).toMatchObject({ cpu1Ticks: 0, cpu7Spurious: 0, violations: 0 });
  });

  it("the app's own mechanism stretches the residual tick to once every 4 s", () => {
    expect(by("+ residual-tick-stretch (4 s)")).toMatchObject({ cpu1Ticks: 1, remoteTicks: 0, violations: 0 });
  });

  it("composing by name through the app's registry gives the same run as composing values", () => {
    const byName = runByName(["remote-stats", "oneshot-stopped"].map((name) => ({ name })), 3);
    const byValue = simulate(exampleScenario(3), { mechanisms: [remoteStats(), oneshotStopped()] }).report;
    expect(byName.kernel.mechanisms).toEqual([{ name: "remote-stats", variant: "mainline" }, { name: "oneshot-stopped" }]);
    expect(byName.digest).toBe(byValue.digest);
  });
});
