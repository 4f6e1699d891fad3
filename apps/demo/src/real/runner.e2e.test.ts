import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { capture } from "../capture.js";
import { Exit } from "../exit.js";
import { main } from "../main.js";
import { which } from "./initramfs.js";
import { defaultKernelPackage } from "./kernel.js";

const checkReport = "/work/shared/tools/check-report.mjs";

/** Why the boot test cannot run here, or null when it can. */
function cannotBoot(): string | null {
  if (which("qemu-system-x86_64") === null) return "qemu-system-x86_64 is missing (apt-get install -y --no-install-recommends qemu-system-x86)";
  for (const [tool, pkg] of [["gcc", "gcc libc6-dev"], ["cpio", "cpio"], ["busybox", "busybox-static"]] as const) if (which(tool) === null) return `${tool} is missing (apt-get install -y --no-install-recommends ${pkg})`;
  try {
    defaultKernelPackage();
  } catch (e) {
    return (e as Error).message;
  }
  return null;
}

const why = cannotBoot();
if (why !== null) console.log(`skipping the real-kernel boot test: ${why}`);
const out = mkdtempSync(join(tmpdir(), "isolsim-real-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe.skipIf(why !== null)("isolsim real on Debian 12's 6.1 under qemu", () => {
  it("boots, measures a short scenario and writes the contract's report from the kernel's trace", { timeout: 150_000 }, async () => {
    const file = join(out, "scenario.json");
    writeFileSync(
      file,
      JSON.stringify({
        name: "real-e2e",
        seed: 1,
        duration: "3s",
        warmup: "1s",
        kernel: { preset: "linux-6.1", cpus: 4, hz: 1000, cmdline: "nohz_full=1-3 isolcpus=managed_irq,1-3 rcu_nocbs=1-3 irqaffinity=0" },
        workload: [
          { type: "user-loop", cpus: "1-3" },
          { type: "syscall", cpus: "1", every: "300ms", call: "file-write" },
          { type: "lru-drain-all", cpus: "0", every: "500ms" },
        ],
      }),
    );
    const keep = join(out, "keep");
    const c = capture();
    expect(await main(["real", file, "--json", "--keep", keep], c.io)).toBe(Exit.ok);
    for (const stage of ["booting", "warming up, then measuring", "writing the trace", "parsing the trace"]) expect(c.err()).toContain(`isolsim real: ${stage}`);
    const report = JSON.parse(c.out());
    writeFileSync(join(out, "report.json"), c.out());
    if (existsSync(checkReport)) {
      const check = spawnSync(process.execPath, [checkReport, join(out, "report.json")], { encoding: "utf8" });
      expect(check.status, check.stdout + check.stderr).toBe(0);
    }
    expect(report.kernel).toMatchObject({ preset: "linux-6.1", cpus: 4, hz: 250, nohz_full: "1-3" });
    expect(report.real.kernel).toMatch(/^6\.1\.0-\d+-amd64$/);
    expect(report.real.notes.some((n: string) => n.includes("HZ mismatch: the scenario says hz=1000") && n.includes("CONFIG_HZ=250"))).toBe(true);
    expect(report.real.notes.some((n: string) => n.includes("durations are emulated"))).toBe(true);
    // the write on CPU 1 leaves pages in its LRU batch: each lru_add_drain_all() queues the drain there
    expect(report.cpus[1].interruptions.kworker_lru_drain).toBeGreaterThan(0);
    // every CPU's tick at CONFIG_HZ on the housekeeping CPU: hundreds in 2 s at 250 Hz
    expect(report.cpus[0].interruptions.tick).toBeGreaterThan(100);
    expect(report.kthreads.rcu_callback).toBeGreaterThanOrEqual(3);
    expect(report.trace.approximate.map((a: { key: string }) => a.key)).not.toContain("kthreads");
    for (const f of ["trace.txt", "interrupts.before.txt", "interrupts.after.txt", "ps.txt", "setup.txt"]) expect(existsSync(join(keep, f))).toBe(true);
    expect(readFileSync(join(keep, "setup.txt"), "utf8")).toContain("function flush_tlb_func");
    expect(existsSync(join(keep, "serial.txt"))).toBe(false);
  });
});
