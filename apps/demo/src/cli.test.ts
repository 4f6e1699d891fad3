import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../bin/isolsim.js", import.meta.url));
const scenario = fileURLToPath(new URL("../scenarios/residual-tick.json", import.meta.url));

describe("isolsim run", () => {
  it("prints a contract-shaped report with --json", () => {
    const r = spawnSync(process.execPath, [bin, "run", scenario, "--json"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.cpus).toHaveLength(8);
    expect(report.cpus[1].interruptions.tick).toBeGreaterThan(5);
  });
});
