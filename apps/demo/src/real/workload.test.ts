import { describe, expect, it } from "vitest";
import { registry } from "../registry.js";
import { scenarioFromObject } from "../scenario-file.js";
import { BadInput } from "../problems.js";
import { guestBootParams, housekeepingCpu, workloadArgs } from "./workload.js";

const scenario = (kernel: object, workload: object[], extra: object = {}) =>
  scenarioFromObject({ name: "t", seed: 3, duration: "2s", warmup: "500ms", kernel: { preset: "linux-6.1", cpus: 4, ...kernel }, workload, ...extra }, { registry });

describe("workloadArgs: the scenario as the workload program's arguments", () => {
  it("starts with duration, warmup, seed and the housekeeping CPU, in ns", () => {
    const args = workloadArgs(scenario({ nohz_full: "1-3" }, [{ type: "user-loop", cpus: "1-3" }]));
    expect(args.slice(0, 4)).toEqual(["2000000000", "500000000", "3", "0"]);
  });

  it("gives each user-loop task its own pinned loop item, with policy and priority", () => {
    const args = workloadArgs(scenario({ nohz_full: "1-3" }, [{ type: "user-loop", cpus: "2-3", tasks: 2, policy: "fifo", priority: 10 }]));
    expect(args.slice(4)).toEqual(["loop:2:fifo:10", "loop:2:fifo:10", "loop:3:fifo:10", "loop:3:fifo:10"]);
  });

  it("passes each syscall with its period, first firing, jitter and pages (default 8)", () => {
    const args = workloadArgs(
      scenario({ nohz_full: "1-3" }, [
        { type: "user-loop", cpus: "1-3" },
        { type: "syscall", cpus: "1", call: "file-write", every: "500ms", pages: 4 },
        { type: "syscall", cpus: "2-3", call: "call-rcu", every: "700ms", at: "100ms", jitter: "1ms" },
      ]),
    );
    expect(args.slice(7)).toEqual(["syscall:1:file-write:500000000:500000000:0:4", "syscall:2:call-rcu:700000000:100000000:1000000:8", "syscall:3:call-rcu:700000000:100000000:1000000:8"]);
  });

  it("turns lru-drain-all into compact_memory writes, vmalloc-churn into fork churn beyond the 2 cached stacks, wakeup into a pinned user process", () => {
    const args = workloadArgs(
      scenario({ nohz_full: "1-3" }, [
        { type: "lru-drain-all", cpus: "0", every: "200ms" },
        { type: "vmalloc-churn", cpus: "0", every: "1ms", pages: 16 },
        { type: "wakeup", cpus: "3", every: "300ms", run: "20us", jitter: "50us" },
      ]),
    );
    expect(args.slice(4)).toEqual(["compact:0:200000000:200000000:0", "forkchurn:0:1000000:1000000:0:6", "wakeup:3:300000000:300000000:50000:20000"]);
  });

  it("loads bpf programs from the housekeeping CPU", () => {
    const args = workloadArgs(scenario({ cmdline: "nohz_full=0-2 isolcpus=0-2" }, [{ type: "bpf", cpus: "1", every: "100ms" }]));
    expect(args.slice(3)).toEqual(["3", "bpf:3:100000000:100000000:0"]);
  });

  it("refuses kernel-loop, naming the workload item (exit 2)", () => {
    const spec = scenario({ nohz_full: "1-3" }, [{ type: "user-loop", cpus: "1" }, { type: "kernel-loop", cpus: "1", every: "10ms", run: "1ms" }]);
    expect(() => workloadArgs(spec)).toThrow(BadInput);
    expect(() => workloadArgs(spec)).toThrow(/workload\[1\]\.type: "kernel-loop" cannot be reproduced on a real kernel/);
  });

  it("refuses bpf attached by kprobe and lru-drain-all with pcp", () => {
    expect(() => workloadArgs(scenario({ nohz_full: "1-3" }, [{ type: "bpf", cpus: "1", every: "100ms", attach: "kprobe" }]))).toThrow(/workload\[0\]\.attach/);
    expect(() => workloadArgs(scenario({ nohz_full: "1-3" }, [{ type: "lru-drain-all", cpus: "0", every: "100ms", pcp: true }]))).toThrow(/workload\[0\]\.pcp/);
  });
});

describe("the guest's boot parameters", () => {
  it("are the scenario's cmdline as written, or nohz_full= from kernel.nohz_full", () => {
    expect(guestBootParams(scenario({ cmdline: "nohz_full=1-3 isolcpus=managed_irq,1-3 rcu_nocbs=1-3 irqaffinity=0" }, []))).toBe("nohz_full=1-3 isolcpus=managed_irq,1-3 rcu_nocbs=1-3 irqaffinity=0");
    expect(guestBootParams(scenario({ nohz_full: "2-3" }, []))).toBe("nohz_full=2-3");
    expect(guestBootParams(scenario({}, []))).toBe("");
  });

  it("leave the first CPU outside nohz_full and isolcpus as the housekeeping CPU", () => {
    expect(housekeepingCpu(scenario({ nohz_full: "1-3" }, []))).toBe(0);
    expect(housekeepingCpu(scenario({ cmdline: "nohz_full=0-1 isolcpus=0-2" }, []))).toBe(3);
  });
});
