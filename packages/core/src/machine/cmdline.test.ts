import { describe, expect, it } from "vitest";
import { CmdlineError, parseKernelCmdline } from "./cmdline.js";
import { CpuListError } from "./cpumask.js";

const parse = (cmdline: string, nr = 8) => parseKernelCmdline(cmdline, nr);

describe("parseKernelCmdline", () => {
  it("reads a typical isolation command line and keeps the other words", () => {
    const boot = parse("BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet nohz_full=1-7 isolcpus=managed_irq,domain,1-7 rcu_nocbs=1-7 irqaffinity=0");
    expect(boot.nohzFull?.toString()).toBe("1-7");
    expect(boot.isolcpus?.flags).toEqual(["managed_irq", "domain"]);
    expect(boot.isolcpus?.mask.toString()).toBe("1-7");
    expect(boot.rcuNocbs?.toString()).toBe("1-7");
    expect(boot.irqaffinity?.toString()).toBe("0");
    expect(boot.unknown).toEqual(["BOOT_IMAGE=/vmlinuz", "root=/dev/sda1", "ro", "quiet"]);
    expect(boot.warnings).toEqual([]);
    expect(boot.isolcpusFirst).toBeUndefined();
  });

  it("leaves out what the command line does not give", () => {
    const boot = parse("quiet");
    expect(boot).toEqual({ unknown: ["quiet"], warnings: [] });
  });

  it("gives isolcpus= without flags the domain flag (HK_FLAG_DOMAIN)", () => {
    expect(parse("isolcpus=1-7").isolcpus?.flags).toEqual(["domain"]);
    expect(parse("isolcpus=nohz,domain,2-3").isolcpus?.flags).toEqual(["nohz", "domain"]);
  });

  it("skips an unknown isolcpus flag with the kernel's notice, and defaults to domain if none is left", () => {
    const boot = parse("isolcpus=manged_irq,1-3");
    expect(boot.isolcpus?.flags).toEqual(["domain"]);
    expect(boot.isolcpus?.mask.toString()).toBe("1-3");
    expect(boot.warnings).toEqual(["isolcpus: Skipped unknown flag manged_irq"]);
  });

  it("rejects an isolcpus flag with other characters than letters and _ (the kernel's 'Invalid flag')", () => {
    expect(() => parse("isolcpus=domain2,1-3")).toThrow(CmdlineError);
    expect(() => parse("isolcpus=domain2,1-3")).toThrow(
      'isolcpus: invalid flag "domain2" in "domain2,1-3" (valid: flags nohz, domain, managed_irq',
    );
  });

  it("needs the comma after a flag: a bare flag is skipped as unknown, leaving an empty list", () => {
    const boot = parse("isolcpus=domain");
    expect(boot.isolcpus?.mask.isEmpty()).toBe(true);
    expect(boot.warnings).toEqual(["isolcpus: Skipped unknown flag domain"]);
  });

  it("throws CpuListError naming the parameter for a bad CPU list", () => {
    expect(() => parse("nohz_full=1-9")).toThrow("nohz_full: CPU 9 is out of range for a machine of 8 CPUs (valid: 0-7)");
    expect(() => parse("isolcpus=domain,3-1")).toThrow(CpuListError);
    expect(() => parse("rcu_nocbs=1-")).toThrow(/^rcu_nocbs: /);
    expect(() => parse("irqaffinity=x")).toThrow(/^irqaffinity: /);
  });

  it("treats - and _ alike in parameter names, as parameqn()", () => {
    expect(parse("nohz-full=2-3").nohzFull?.toString()).toBe("2-3");
    expect(parse("rcu-nocbs=4").rcuNocbs?.toString()).toBe("4");
  });

  it("accepts N and all in lists", () => {
    expect(parse("nohz_full=1-N").nohzFull?.toString()).toBe("1-7");
    expect(parse("rcu_nocbs=all").rcuNocbs?.toString()).toBe("0-7");
  });

  it("takes a bare rcu_nocbs as the empty list, but a bare nohz_full or isolcpus is not theirs", () => {
    const boot = parse("rcu_nocbs nohz_full isolcpus");
    expect(boot.rcuNocbs?.isEmpty()).toBe(true);
    expect(boot.nohzFull).toBeUndefined();
    expect(boot.unknown).toEqual(["nohz_full", "isolcpus"]);
  });

  it("passes malformed isolation words to init as 4.9 does (parameqn() is case-sensitive; spaces split words)", () => {
    // init/main.c obsolete_checksetup() matches "nohz_full=" over its 10 characters only.
    const spaced = parse("nohz_full = 1-7");
    expect(spaced.nohzFull).toBeUndefined();
    expect(spaced.unknown).toEqual(["nohz_full", "=", "1-7"]);
    const upper = parse("NOHZ_FULL=1-7");
    expect(upper.nohzFull).toBeUndefined();
    expect(upper.unknown).toEqual(["NOHZ_FULL=1-7"]);
  });

  it("reads an empty nohz_full= as the empty mask", () => {
    expect(parse("nohz_full=").nohzFull?.isEmpty()).toBe(true);
  });

  it("strips double quotes as next_arg() does", () => {
    expect(parse('nohz_full="1-3"').nohzFull?.toString()).toBe("1-3");
    expect(parse('"isolcpus=1, 2"').isolcpus?.mask.toString()).toBe("1-2");
  });

  it("passes everything after -- to init without reading it", () => {
    const boot = parse("nohz_full=1 -- nohz_full=2 single");
    expect(boot.nohzFull?.toString()).toBe("1");
    expect(boot.unknown).toEqual(["--", "nohz_full=2", "single"]);
  });

  it("records whether isolcpus= came before nohz_full=", () => {
    expect(parse("isolcpus=nohz,1-3 nohz_full=1-5").isolcpusFirst).toBe(true);
    expect(parse("nohz_full=1-5 isolcpus=nohz,1-3").isolcpusFirst).toBeUndefined();
  });
});

describe("a parameter given twice", () => {
  it("nohz_full=: the first wins; a different later one is ignored with housekeeping_setup()'s warning", () => {
    const boot = parse("nohz_full=1-3 nohz_full=1-5");
    expect(boot.nohzFull?.toString()).toBe("1-3");
    expect(boot.warnings).toEqual(["Housekeeping: nohz_full= must match isolcpus= (nohz_full=1-5 ignored)"]);
    expect(parse("nohz_full=1-3 nohz_full=1,2,3").warnings).toEqual([]);
  });

  it("isolcpus=: same flags need the same list; new flags with the same list are added", () => {
    const ignored = parse("isolcpus=1-3 isolcpus=domain,1-5");
    expect(ignored.isolcpus?.mask.toString()).toBe("1-3");
    expect(ignored.warnings).toEqual(["Housekeeping: nohz_full= must match isolcpus= (isolcpus=domain,1-5 ignored)"]);
    const merged = parse("isolcpus=1-3 isolcpus=managed_irq,1-3");
    expect(merged.isolcpus?.flags).toEqual(["domain", "managed_irq"]);
  });

  it("isolcpus=: new flags with another list would need two masks, which is refused", () => {
    expect(() => parse("isolcpus=domain,1-3 isolcpus=managed_irq,1-5")).toThrow(CmdlineError);
  });

  it("rcu_nocbs= and irqaffinity=: the last wins, as each call re-parses the mask", () => {
    const boot = parse("rcu_nocbs=1-3 rcu_nocbs=4 irqaffinity=0 irqaffinity=0-1");
    expect(boot.rcuNocbs?.toString()).toBe("4");
    expect(boot.irqaffinity?.toString()).toBe("0-1");
    expect(boot.warnings).toEqual([]);
  });
});

describe("pti= and nopti (pti_check_boottime_disable()), qpw= (QPW v2)", () => {
  it("pti=on and pti=off set the switch, pti=auto and no option leave the preset's value", () => {
    expect(parse("nohz_full=1-3 pti=on").pti).toBe(true);
    expect(parse("nohz_full=1-3 pti=off").pti).toBe(false);
    expect(parse("nohz_full=1-3 pti=auto").pti).toBeUndefined();
    expect(parse("nohz_full=1-3").pti).toBeUndefined();
    expect(parse("pti=on").unknown).toEqual([]);
  });

  it("nopti turns it off unless pti=on or pti=auto says otherwise; the last pti= counts", () => {
    expect(parse("nopti").pti).toBe(false);
    expect(parse("nopti pti=on").pti).toBe(true);
    expect(parse("pti=auto nopti").pti).toBeUndefined();
    expect(parse("pti=on pti=off").pti).toBe(false);
  });

  it("an unknown pti= value falls through to auto (or nopti) with a warning", () => {
    const boot = parse("pti=yes");
    expect(boot.pti).toBeUndefined();
    expect(boot.warnings).toEqual(['pti: unknown value "yes" treated as auto (valid: on, off, auto)']);
    expect(parse("pti=yes nopti").pti).toBe(false);
  });

  it("qpw= is read as kstrtobool() reads it; a bad value is ignored with a warning", () => {
    expect(parse("qpw=1").qpw).toBe(true);
    expect(parse("qpw=on").qpw).toBe(true);
    expect(parse("qpw=0").qpw).toBe(false);
    expect(parse("qpw=off").qpw).toBe(false);
    expect(parse("nohz_full=1").qpw).toBeUndefined();
    const bad = parse("qpw=maybe");
    expect(bad.qpw).toBeUndefined();
    expect(bad.warnings).toEqual(['qpw: invalid value "maybe" ignored (valid: 1/0, y/n, on/off)']);
  });
});
