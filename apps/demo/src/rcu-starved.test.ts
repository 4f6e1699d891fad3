import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const bin = join(root, "apps/demo/bin/isolsim.js");
const starved = join(root, "apps/demo/scenarios/rcu-starved.json");

describe("shipped scenario rcu-starved", () => {
  it("reports lost callbacks (rcu-callbacks-invoked) with exit 1: an RT hog on the housekeeping CPU starves the RCU kthreads", () => {
    const r = spawnSync(process.execPath, [bin, "run", starved, "--json"], { encoding: "utf8" });
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout) as { invariants: { violations: { invariant: string; cpu: number; time_ns: number; detail: string }[] } };
    const v = report.invariants.violations;
    expect(v.length).toBe(11);
    expect(v.every((x) => x.invariant === "rcu-callbacks-invoked")).toBe(true);
    expect(v[0]!.cpu).toBe(1);
    expect(v[0]!.time_ns).toBe(3_000_000_000);
    expect(v[0]!.detail).toMatch(/^callback 1 queued on CPU 1 at \d+ ns .*not invoked by the end of the run/);
    // 7 isolated CPUs call call_rcu() every 100 ms from 100 ms; the ones queued before 2 s are due.
    expect(v[10]!.detail).toBe("133 callbacks in total were not invoked in time (the first 10 are listed)");
  });
});
