import { describe, expect, it } from "vitest";
import { qemuArgs, splitSections } from "./qemu.js";

describe("the qemu command line", () => {
  const args = qemuArgs({ kernel: "/k/vmlinuz", initrd: "/c/i.cpio.gz", cpus: 4, bootParams: "nohz_full=1-3 rcu_nocbs=1-3", serialOut: "/o/serial.txt" });
  const after = (flag: string): string[] => args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));

  it("uses TCG with every vCPU a host thread and the max CPU model", () => {
    expect(after("-accel")).toEqual(["tcg,thread=multi"]);
    expect(after("-cpu")).toEqual(["max"]);
  });

  it("has kernel.cpus vCPUs and boots the kernel and initramfs given", () => {
    expect(after("-smp")).toEqual(["4"]);
    expect(after("-kernel")).toEqual(["/k/vmlinuz"]);
    expect(after("-initrd")).toEqual(["/c/i.cpio.gz"]);
  });

  it("boots with the scenario's parameters and the console on the first serial port", () => {
    expect(after("-append")).toEqual(["nohz_full=1-3 rcu_nocbs=1-3 console=ttyS0 quiet panic=-1"]);
  });

  it("sends the console to stdio and the guest's output to a file on the second serial port; never reboots", () => {
    expect(after("-serial")).toEqual(["stdio", "file:/o/serial.txt"]);
    expect(args).toContain("-no-reboot");
    expect(after("-display")).toEqual(["none"]);
  });
});

describe("splitSections", () => {
  it("cuts the guest's output at its delimiters and drops carriage returns", () => {
    const out = "noise\r\n===== isolsim: begin setup =====\r\nevent a\r\n===== isolsim: end setup =====\r\n===== isolsim: begin trace =====\n# tracer: nop\n===== isolsim: end trace =====\n===== isolsim: done =====\n";
    const s = splitSections(out);
    expect([...s.keys()]).toEqual(["setup", "trace"]);
    expect(s.get("setup")).toBe("event a\n");
    expect(s.get("trace")).toBe("# tracer: nop\n");
  });
});
