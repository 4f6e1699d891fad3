import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { capture } from "../capture.js";
import { Exit } from "../exit.js";
import { main } from "../main.js";
import { markerWindow } from "./real.js";

const dir = mkdtempSync(join(tmpdir(), "isolsim-real-cmd-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const scenario = (workload: object[]): string => {
  const f = join(dir, `s${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(f, JSON.stringify({ name: "r", seed: 1, duration: "2s", warmup: "1s", kernel: { preset: "linux-6.1", cpus: 4, nohz_full: "1-3" }, workload }));
  return f;
};
const loop = scenario([{ type: "user-loop", cpus: "1-3" }]);

describe("isolsim real: bad input before anything boots (exit 2, nothing on stdout)", () => {
  it("refuses kernel-loop, naming the workload item", async () => {
    const c = capture();
    const f = scenario([{ type: "user-loop", cpus: "1" }, { type: "kernel-loop", cpus: "1", every: "100ms", run: "1ms" }]);
    expect(await main(["real", f], c.io)).toBe(Exit.badInput);
    expect(c.err()).toMatch(/workload\[1\]\.type: "kernel-loop" cannot be reproduced on a real kernel/);
    expect(c.out()).toBe("");
  });

  it("takes --kernel or --kernel-package, not both", async () => {
    const c = capture();
    expect(await main(["real", loop, "--kernel", "/boot/x", "--kernel-package", "linux-image-x"], c.io)).toBe(Exit.badInput);
    expect(c.err()).toMatch(/--kernel and --kernel-package: give one of them/);
    expect(c.out()).toBe("");
  });

  it("names a --kernel file that does not exist", async () => {
    const c = capture();
    expect(await main(["real", loop, "--kernel", join(dir, "no-such-bzImage")], c.io)).toBe(Exit.badInput);
    expect(c.err()).toMatch(/--kernel: .*no-such-bzImage does not exist \(valid: a bzImage or vmlinuz file\)/);
    expect(c.out()).toBe("");
  });

  it("refuses a --kernel-package that is not a package name", async () => {
    const c = capture();
    expect(await main(["real", loop, "--kernel-package", "../../etc"], c.io)).toBe(Exit.badInput);
    expect(c.err()).toMatch(/--kernel-package: "\.\.\/\.\.\/etc" is not valid/);
  });

  it("compare takes the kernel options only with --real", async () => {
    const c = capture();
    expect(await main(["compare", loop, "--kernel", "/boot/x"], c.io)).toBe(Exit.badInput);
    expect(c.err()).toMatch(/--kernel: only with --real/);
  });
});

describe("the measured window", () => {
  it("lies between the workload program's trace markers, in seconds after the first event", () => {
    const trace = [
      "# tracer: function",
      "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION",
      "            init-1       [000] d.h..     2.875181: local_timer_entry: vector=236",
      "        workload-110     [000] .....     3.960575: tracing_mark_write: isolsim: measure start",
      "          <idle>-0       [001] d.h1.     4.000001: local_timer_entry: vector=236",
      "        workload-110     [000] .....     5.941222: tracing_mark_write: isolsim: measure end",
    ].join("\n");
    expect(markerWindow(trace)).toEqual([1.085394, 3.066041]);
    expect(markerWindow(trace.split("\n").slice(0, 4).join("\n"))).toBeNull();
  });
});
