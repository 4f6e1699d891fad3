import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { registry } from "../registry.js";
import { scenarioFromObject } from "../scenario-file.js";
import { which } from "./initramfs.js";
import { cacheDir, defaultKernelPackage } from "./kernel.js";
import { runReal } from "./runner.js";

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
afterAll(() => { if (!process.env.ISOLSIM_KEEP_E2E) rmSync(out, { recursive: true, force: true }); });

describe.skipIf(why !== null)("isolsim real on Debian 12's 6.1 under qemu", () => {
  it("boots, measures a short scenario and writes the trace and the snapshots", { timeout: 170_000 }, async () => {
    const spec = scenarioFromObject(
      {
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
      },
      { registry },
    );
    const stages: string[] = [];
    const run = await runReal(spec, { kernel: "default", outDir: out, cache: cacheDir(), onStage: (s) => stages.push(s) });
    expect(stages).toEqual(expect.arrayContaining(["booting", "warming up, then measuring", "writing the trace"]));
    expect(run.kernel.release).toMatch(/^6\.1\.0-\d+-amd64$/);
    expect(run.preset).toBe("linux-6.1");
    expect(run.setup).toContain("event irq_vectors/local_timer_entry");
    expect(run.setup).toContain("function flush_tlb_func");
    expect(run.notes.some((n) => n.includes("HZ mismatch: the scenario says hz=1000") && n.includes("CONFIG_HZ=250"))).toBe(true);
    expect(run.notes.some((n) => n.includes("durations are emulated"))).toBe(true);
    const trace = readFileSync(run.files.trace, "utf8");
    expect(trace).toMatch(/tracing_mark_write: isolsim: measure start[\s\S]*tracing_mark_write: isolsim: measure end/);
    expect(trace).toMatch(/workqueue_execute_start: .*function lru_add_drain_per_cpu/);
    expect(readFileSync(run.files.cmdline, "utf8")).toContain("nohz_full=1-3");
    expect(readFileSync(run.files["interrupts.after"], "utf8")).toMatch(/^LOC: /m);
    expect(readFileSync(run.files.ps, "utf8")).toMatch(/rcuop\/1/);
    expect(existsSync(join(out, "serial.txt"))).toBe(false);
  });
});
