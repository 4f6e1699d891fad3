import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FTRACE_FILTER, TRACE_EVENTS, buildInitramfs, initScript, initramfsLayout, inputsHash, which } from "./initramfs.js";

const tmp = mkdtempSync(join(tmpdir(), "isolsim-initramfs-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("the guest's /init", () => {
  const script = initScript(["2000000000", "500000000", "1", "0", "loop:1:other:0"]);

  it("enables every trace event and the function filter before the workload starts", () => {
    const workload = script.indexOf("/workload ");
    for (const e of TRACE_EVENTS) expect(script.indexOf(e)).toBeLessThan(workload);
    expect(script.indexOf("echo function > $T/current_tracer")).toBeLessThan(workload);
    expect(script.indexOf("echo 1 > $T/tracing_on")).toBeLessThan(workload);
    expect(TRACE_EVENTS).toContain("irq_vectors/spurious_apic_entry");
    expect(TRACE_EVENTS).toContain("timer/tick_stop");
  });

  it("writes each filter name on its own (set_ftrace_filter stops at the first name a kernel rejects)", () => {
    expect(script).toContain(`for f in ${FTRACE_FILTER.join(" ")}; do`);
    expect(script).toContain("echo $f >> $T/set_ftrace_filter");
    expect(FTRACE_FILTER).toEqual(expect.arrayContaining(["flush_tlb_func", "do_flush_tlb_all", "do_kernel_range_flush", "nohz_full_kick_func"]));
  });

  it("keeps the function tracer off when the kernel accepted no name (it would trace every function)", () => {
    expect(script).toMatch(/if \[ \$n -gt 0 \]; then echo function > \$T\/current_tracer/);
  });

  it("passes the workload arguments quoted, and dumps the sections on ttyS1 before powering off", () => {
    expect(script).toContain("/workload '2000000000' '500000000' '1' '0' 'loop:1:other:0'");
    expect(script).toMatch(/sec trace \$T\/trace\n[\s\S]*> \$O\npoweroff -f\n$/);
  });
});

describe("the initramfs", () => {
  it("holds /init, /bin/busybox and /workload, executable", () => {
    const layout = initramfsLayout("/bin/sh", "/bin/true", ["1"]);
    expect(layout.files.map((f) => [f.path, f.mode])).toEqual([["bin/busybox", 0o755], ["workload", 0o755], ["init", 0o755]]);
    expect(layout.dirs).toEqual(["bin", "dev", "proc", "sys", "tmp"]);
  });

  it("is keyed by a hash of its inputs: a different workload argument is a different image", () => {
    const a = inputsHash(["init", initScript(["1"])]);
    expect(inputsHash(["init", initScript(["1"])])).toBe(a);
    expect(inputsHash(["init", initScript(["2"])])).not.toBe(a);
  });

  it.skipIf(which("cpio") === null)("is a gzip'd newc cpio, built once and reused", () => {
    const fake = join(tmp, "fake");
    writeFileSync(fake, "#!/bin/sh\n");
    const layout = initramfsLayout(fake, fake, ["x"]);
    const image = buildInitramfs(layout, tmp);
    const listing = execFileSync("sh", ["-c", `gzip -dc "$1" | cpio -it --quiet`, "sh", image], { encoding: "utf8" }).split("\n").filter(Boolean).sort();
    expect(listing).toEqual([".", "bin", "bin/busybox", "dev", "init", "proc", "sys", "tmp", "workload"]);
    const before = readFileSync(image);
    expect(buildInitramfs(layout, tmp)).toBe(image);
    expect(readFileSync(image).equals(before)).toBe(true);
  });
});
