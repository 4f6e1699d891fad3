import { describe, expect, it } from "vitest";
import { parseKernelCmdline } from "./cmdline.js";
import { CpuMask } from "./cpumask.js";
import { housekeepingSetup } from "./housekeeping.js";

const boot = (cmdline: string, nr = 8, bootCpu = 0) => housekeepingSetup(parseKernelCmdline(cmdline, nr), nr, bootCpu);
const str = (mask: CpuMask): string => mask.toString();

describe("housekeepingSetup", () => {
  it("without isolation parameters every CPU is housekeeping and nothing is isolated", () => {
    const hk = boot("quiet");
    expect(str(hk.nohzFull)).toBe("");
    expect(str(hk.housekeeping)).toBe("0-7");
    expect(str(hk.isolated)).toBe("");
    expect(str(hk.rcuNocbs)).toBe("");
    expect(str(hk.irqDefaultAffinity)).toBe("0-7");
    expect(Object.values(hk.byType).every((m) => m.weight() === 8)).toBe(true);
    expect(hk.warnings).toEqual([]);
  });

  it("nohz_full= moves tick, timer, rcu, misc, wq and kthread housekeeping off the listed CPUs", () => {
    const hk = boot("nohz_full=1-7");
    expect(str(hk.nohzFull)).toBe("1-7");
    expect(str(hk.housekeeping)).toBe("0");
    for (const t of ["tick", "timer", "rcu", "misc", "wq", "kthread"] as const) expect(str(hk.byType[t])).toBe("0");
    expect(str(hk.byType.domain)).toBe("0-7");
    expect(str(hk.byType.sched)).toBe("0-7");
    expect(str(hk.isolated)).toBe("");
  });

  it("rcu_nocbs always covers nohz_full (rcu_init_nohz())", () => {
    expect(str(boot("nohz_full=4-7").rcuNocbs)).toBe("4-7");
    expect(str(boot("nohz_full=4-7 rcu_nocbs=2-3").rcuNocbs)).toBe("2-7");
    expect(str(boot("rcu_nocbs=2-3").rcuNocbs)).toBe("2-3");
  });

  it("clears the boot CPU from nohz_full for timekeeping, with tick_nohz_init()'s warning", () => {
    const hk = boot("nohz_full=0-3");
    expect(str(hk.nohzFull)).toBe("1-3");
    expect(hk.warnings).toEqual(["NO_HZ: Clearing 0 from nohz_full range for timekeeping"]);
    expect(str(hk.rcuNocbs)).toBe("1-3");
  });

  it("in 6.1 that boot CPU is not housekeeping either: the masks are all CPUs minus the list", () => {
    const hk = boot("nohz_full=0-3");
    expect(str(hk.housekeeping)).toBe("4-7");
    expect(hk.housekeeping.has(0) || hk.nohzFull.has(0)).toBe(false);
  });

  it("honours another boot CPU", () => {
    const hk = boot("nohz_full=1-3", 8, 2);
    expect(str(hk.nohzFull)).toBe("1,3");
    expect(hk.warnings).toEqual(["NO_HZ: Clearing 2 from nohz_full range for timekeeping"]);
  });

  it("keeps at least one housekeeping CPU: the boot CPU, when the list names them all", () => {
    const hk = boot("nohz_full=0-7", 8, 3);
    expect(str(hk.housekeeping)).toBe("3");
    expect(str(hk.nohzFull)).toBe("0-2,4-7");
    expect(hk.warnings).toEqual(["Housekeeping: must include one present CPU, using boot CPU:3"]);
  });

  it("isolcpus= (domain) takes CPUs out of the scheduler domains only", () => {
    const hk = boot("isolcpus=2-5");
    expect(str(hk.isolated)).toBe("2-5");
    expect(str(hk.domain)).toBe("0-1,6-7");
    expect(str(hk.nohzFull)).toBe("");
    expect(str(hk.housekeeping)).toBe("0-7");
    expect(str(hk.managedIrq)).toBe("0-7");
  });

  it("isolcpus=managed_irq steers managed interrupts to the other CPUs", () => {
    const hk = boot("isolcpus=managed_irq,domain,1-7");
    expect(str(hk.managedIrq)).toBe("0");
    expect(str(hk.isolated)).toBe("1-7");
  });

  it("isolcpus=nohz alone sets the tick mask only: timers, RCU and kthreads stay on every CPU", () => {
    const hk = boot("isolcpus=nohz,1-3");
    expect(str(hk.nohzFull)).toBe("1-3");
    expect(str(hk.byType.tick)).toBe("0,4-7");
    expect(str(hk.byType.kthread)).toBe("0-7");
    expect(str(hk.housekeeping)).toBe("0,4-7");
    expect(str(hk.isolated)).toBe("");
  });

  it("isolcpus=nohz and nohz_full= must match; the first one wins", () => {
    const first = boot("isolcpus=nohz,domain,1-3 nohz_full=1-5");
    expect(str(first.nohzFull)).toBe("1-3");
    expect(str(first.byType.kthread)).toBe("0-7");
    expect(first.warnings).toEqual(["Housekeeping: nohz_full= must match isolcpus= (nohz_full=1-5 ignored)"]);
    const second = boot("nohz_full=1-5 isolcpus=nohz,domain,1-3");
    expect(str(second.nohzFull)).toBe("1-5");
    expect(str(second.isolated)).toBe("");
    expect(second.warnings).toEqual(["Housekeeping: nohz_full= must match isolcpus= (isolcpus=1-3 ignored)"]);
  });

  it("nohz_full= and isolcpus= with matching lists combine", () => {
    const hk = boot("isolcpus=nohz,domain,managed_irq,1-7 nohz_full=1-7 rcu_nocbs=1-7");
    expect(str(hk.nohzFull)).toBe("1-7");
    expect(str(hk.isolated)).toBe("1-7");
    expect(str(hk.housekeeping)).toBe("0");
    expect(hk.warnings).toEqual([]);
  });

  it("irqaffinity= sets the default affinity and always includes the boot CPU (irq_affinity_setup())", () => {
    expect(str(boot("irqaffinity=0-1").irqDefaultAffinity)).toBe("0-1");
    expect(str(boot("irqaffinity=4-5").irqDefaultAffinity)).toBe("0,4-5");
    expect(str(boot("irqaffinity=4-5", 8, 7).irqDefaultAffinity)).toBe("4-5,7");
  });

  it("without irqaffinity= unmanaged interrupts may go to every CPU, nohz_full ones too (init_irq_default_affinity())", () => {
    expect(str(boot("nohz_full=1-7 isolcpus=managed_irq,1-7").irqDefaultAffinity)).toBe("0-7");
  });

  it("passes parsing warnings on first", () => {
    const hk = boot("isolcpus=foo,1-3 nohz_full=0-3");
    expect(hk.warnings).toEqual([
      "isolcpus: Skipped unknown flag foo",
      "NO_HZ: Clearing 0 from nohz_full range for timekeeping",
    ]);
  });

  it("accepts hand-built parameters, an isolcpus without flags meaning domain", () => {
    const hk = housekeepingSetup({ isolcpus: { flags: [], mask: CpuMask.of(4, [3]) }, unknown: [] }, 4);
    expect(str(hk.isolated)).toBe("3");
  });

  it("refuses a boot CPU outside the machine", () => {
    expect(() => boot("quiet", 8, 8)).toThrow("bootCpu: CPU 8 is out of range for a machine of 8 CPUs (valid: 0-7)");
  });
});
