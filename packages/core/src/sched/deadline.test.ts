import { describe, expect, it } from "vitest";
import { buildKernel, simulate } from "../simulate.js";
import type { ScenarioSpec } from "../scenario.js";

// The fair server's kick needs the remote tick (the remote-stats package, built on core); those
// tests are in packages/remote-stats/src/fair-server.test.ts. Here: what core decides alone.
const S = 1_000_000_000;
const MS = 1_000_000;

const spec = (params: Record<string, unknown>): ScenarioSpec => ({
  name: "fair-server-core",
  seed: 1,
  duration: 2 * S,
  warmup: 0,
  kernel: { preset: "linux-4.9", cpus: 4, hz: 250, nohzFull: "1-3", params },
  workload: [{ type: "user-loop", cpus: "1-3" }],
});

describe("the fair server's parameters (6.12 rq->fair_server)", () => {
  it("exists only with a non-zero runtime: runtime 0 (the debugfs workaround, and 4.9/6.1) builds no server at all", () => {
    expect(buildKernel(spec({})).sched.fairServer).toBeNull();
    expect(buildKernel(spec({ fair_server_runtime_ns: 0 })).sched.fairServer).toBeNull();
    expect(buildKernel(spec({ fair_server_runtime_ns: 50 * MS })).sched.fairServer).not.toBeNull();
  });

  it("refuses a runtime above its period, naming the field (sched_fair_server_write() checks the bandwidth)", () => {
    expect(() => simulate(spec({ fair_server_runtime_ns: 2 * S, fair_server_period_ns: S }))).toThrow(/^kernel\.params\.fair_server_runtime_ns: /);
  });
});
