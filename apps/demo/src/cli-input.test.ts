import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Issue 17: inputs a user trips over, each through the built CLI: exit code, stderr naming the
// field, nothing on stdout.

const root = fileURLToPath(new URL("../../../", import.meta.url));
const bin = join(root, "apps/demo/bin/isolsim.js");
const residual = join(root, "apps/demo/scenarios/residual-tick.json");
const tmp = mkdtempSync(join(tmpdir(), "isolsim-input-"));
const version = (JSON.parse(readFileSync(join(root, "apps/demo/package.json"), "utf8")) as { version: string }).version;

type Result = { status: number | null; stdout: string; stderr: string };

function isolsim(...args: string[]): Result {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, body: unknown): string {
  const f = join(tmp, `${name}.json`);
  writeFileSync(f, typeof body === "string" ? body : JSON.stringify(body, null, 2));
  return f;
}

/** A small valid scenario (snake_case, as in files). */
const small = (): Record<string, unknown> => ({
  name: "small",
  duration: "200ms",
  kernel: { preset: "linux-4.9", cpus: 4, nohz_full: "1-3" },
  workload: [{ type: "user-loop", cpus: "1-3" }],
});

function expectBadInput(r: Result, ...fragments: string[]): void {
  expect(r.stdout).toBe("");
  for (const f of fragments) expect(r.stderr).toContain(f);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.status).toBe(2);
}

/** No raw control character (other than the line ends) reaches the terminal. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f]/;

describe("deeply nested values never overflow the stack", () => {
  it("a name nested 100,000 arrays deep is exit 2 naming the field", () => {
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    const text = JSON.stringify({ ...small(), name: "@@" }).replace('"@@"', deep);
    const f = file("deep-name", text);
    for (const cmd of ["validate", "run"]) expectBadInput(isolsim(cmd, f), "name[0][0]…: nested more than 32");
  });

  it("a file of a million [ is exit 2 (not valid JSON)", () => {
    expectBadInput(isolsim("validate", file("brackets", "[".repeat(1_000_000))), "(file): not valid JSON");
  });

  it("a deep value under params or mechanism options is exit 2 naming its path", () => {
    const deep = "[".repeat(50_000) + "]".repeat(50_000);
    const p = JSON.stringify({ ...small(), kernel: { cpus: 4, params: { tick_handler_ns: "@@" } } }).replace('"@@"', deep);
    expectBadInput(isolsim("validate", file("deep-param", p)), "kernel.params.tick_handler_ns[0][0]…");
    const m = JSON.stringify({ ...small(), kernel: { cpus: 4, mechanisms: [{ name: "tlb-defer", options: { flush_step: "@@" } }] } }).replace('"@@"', deep);
    expectBadInput(isolsim("validate", file("deep-option", m)), "kernel.mechanisms[0].options.flush_step[0][0]…");
  });

  it("a huge value is echoed cut short", () => {
    const r = isolsim("validate", file("long-name", { ...small(), name: ["x".repeat(1_000_000)] }));
    expectBadInput(r, "name: ");
    expect(r.stderr.length).toBeLessThan(2000);
  });
});

describe("command-line options", () => {
  it("--version prints the version", () => {
    const r = isolsim("--version");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`isolsim ${version}\n`);
  });

  it("--duration takes an integer of ns in run and compare", () => {
    const run = isolsim("run", residual, "--json", "--duration", "2000000000");
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout).simulated_ns).toBe(2_000_000_000);
    const f = file("compare-ns", small());
    const cmp = isolsim("compare", f, "--json", "--duration", "100000000");
    expect(cmp.status).toBe(0);
    for (const e of JSON.parse(cmp.stdout) as { report: { simulated_ns: number } }[]) expect(e.report.simulated_ns).toBe(100_000_000);
  });

  it("--seed -1 gets the range message, in run and compare", () => {
    expectBadInput(isolsim("run", residual, "--seed", "-1"), '--seed: "-1" is not valid (valid: an integer 0-4294967295)');
    expectBadInput(isolsim("compare", residual, "--seed", "-1"), '--seed: "-1" is not valid (valid: an integer 0-4294967295)');
    expectBadInput(isolsim("run", residual, "--duration", "-5ms"), '--duration: "-5ms" is not valid');
  });

  it("--mechanisms with an empty variant or name is exit 2 naming what is valid", () => {
    expectBadInput(isolsim("run", residual, "--mechanisms", "remote-stats:"), '--mechanisms[0]: "remote-stats:" has an empty variant', "valid: a comma-separated list of name or name:variant");
    expectBadInput(isolsim("run", residual, "--mechanisms", "remote-stats,,tlb-defer"), '--mechanisms[1]: "" has no mechanism name');
    expectBadInput(isolsim("run", residual, "--mechanisms", "tlb-defer:ct-work:x"), '--mechanisms[0]: "tlb-defer:ct-work:x" has more than one ":"');
  });

  it("--presets naming a preset twice, or an empty one, is exit 2", () => {
    expectBadInput(isolsim("compare", residual, "--presets", "linux-4.9,linux-4.9"), '--presets: "linux-4.9,linux-4.9" is not valid: "linux-4.9" given twice', "valid: a comma-separated list of distinct presets out of linux-4.9");
    expectBadInput(isolsim("compare", residual, "--presets", "linux-4.9,"), "an empty name");
  });

  it("--trace never overwrites the scenario it reads, by any path", () => {
    const f = file("trace-self", small());
    const before = readFileSync(f, "utf8");
    expectBadInput(isolsim("run", f, "--trace", f), "--trace", "is the scenario file itself");
    expectBadInput(isolsim("run", f, "--trace", join(tmp, ".", "x", "..", "trace-self.json")), "is the scenario file itself");
    expect(readFileSync(f, "utf8")).toBe(before);
  });
});

describe("what FILE is", () => {
  it("a FIFO or a device such as /dev/zero is exit 2 at once (not a regular file), never read forever", () => {
    const fifo = join(tmp, "fifo.json");
    spawnSync("mkfifo", [fifo]);
    for (const f of [fifo, "/dev/zero"]) {
      const r = isolsim("validate", f);
      expectBadInput(r, "FILE:", "is not a regular file");
    }
  });

  it("a file above 64 MiB is exit 2 naming its size, before it is read", () => {
    const big = join(tmp, "big.json");
    spawnSync("truncate", ["-s", String(64 * 1024 * 1024 + 1), big]);
    expectBadInput(isolsim("validate", big), "FILE:", "67108865 bytes", "at most 67108864 bytes");
  });
});

describe("scenario text", () => {
  it("accepts a UTF-8 byte-order mark at the start of the file", () => {
    const f = file("bom", `\uFEFF${JSON.stringify(small())}`);
    expect(isolsim("validate", f).status).toBe(0);
    expect(isolsim("run", f, "--json").status).toBe(0);
  });

  it("escapes control characters of name and description in the table and in every echo", () => {
    const f = file("control", { ...small(), name: "evil\u001b[2J\u0007name", description: "two\nlines\u009b31m" });
    const r = isolsim("run", f);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("scenario evil\\u001b[2J\\u0007name (seed 1): two\\nlines\\u009b31m");
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    expect(r.stdout).not.toContain("\u009b");
    const json = isolsim("run", f, "--json");
    expect(json.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(JSON.parse(json.stdout).scenario).toBe("evil\u001b[2J\u0007name");
    const val = isolsim("validate", f);
    expect(val.status).toBe(0);
    expect(val.stdout).toContain("valid: scenario evil\\u001b[2J\\u0007name,");
    expect(val.stdout).not.toMatch(RAW_CONTROL);
    const bad = isolsim("validate", file("control-bad", { ...small(), seed: "\u001b]0;pwned\u0007", "k\u001bey": 1 }));
    expectBadInput(bad, 'seed: "\\u001b]0;pwned\\u0007" is not valid', "k\\u001bey: unknown field");
    expect(bad.stderr).not.toMatch(RAW_CONTROL);
    expectBadInput(isolsim("run", residual, "--preset", "\u001b[31m"), "--preset", "\\u001b[31m");
  });

  it("caps the problem list at 50 with how many more, and stays bounded for a large file of bad items", () => {
    // 1000 items (under the 1024-item cap, which a longer list meets first) of two problems each.
    const items = Array.from({ length: 1000 }, () => ({ type: "syscall", cpus: "1", every: "x", call: "nope" }));
    const r = isolsim("validate", file("many-bad", { ...small(), workload: items }));
    expectBadInput(r, "problems:", "workload[0].call", "… and ");
    const listed = r.stderr.split("\n").filter((l) => l.startsWith("  ") && !l.startsWith("  …"));
    expect(listed).toHaveLength(50);
    const total = Number(/(\d+) problems:/.exec(r.stderr)![1]);
    expect(r.stderr).toContain(`… and ${total - 50} more`);
    expect(r.stderr.length).toBeLessThan(20_000);
  });
});

describe("objects of too many keys", () => {
  it("are exit 2 naming the object, before any per-key check (a million unknown params stay cheap)", () => {
    const params = Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`p${i}`, i]));
    const r = isolsim("validate", file("many-keys", { ...small(), kernel: { cpus: 4, params } }));
    expectBadInput(r, "kernel.params: an object of 200000 keys (valid: at most 1000 keys in any object of a scenario)");
    expect(r.stderr.split("\n")).toHaveLength(2);
  });
});

describe("kernel.cmdline words the model does not parse", () => {
  it("accepts them as the kernel would, with one warning line per word on stderr in validate, run and compare", () => {
    const f = file("cmdline", { ...small(), kernel: { cpus: 4, cmdline: "nohz_full = 1-3 NOHZ_FULL=1-3 nohz_full quiet -- single" } });
    const v = isolsim("validate", f);
    expect(v.status).toBe(0);
    const warnings = v.stderr.split("\n").filter((l) => l.includes("ignored, as the kernel would pass it to init"));
    expect(warnings).toHaveLength(6);
    expect(v.stderr).toContain('isolsim validate: warning: kernel.cmdline: "NOHZ_FULL=1-3" ignored, as the kernel would pass it to init (parameter names are case-sensitive: did you mean nohz_full=?)');
    expect(v.stderr).toContain('kernel.cmdline: "nohz_full" ignored, as the kernel would pass it to init (nohz_full takes a value');
    expect(v.stderr).not.toContain('"single"');
    const r = isolsim("run", f, "--json");
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).kernel.nohz_full).toBe("");
    expect(r.stderr.split("\n").filter((l) => l.includes("ignored, as the kernel would pass it to init"))).toHaveLength(6);
    const c = isolsim("compare", f, "--json", "--duration", "50ms");
    expect(c.status).toBe(0);
    expect(c.stderr).toContain('isolsim compare: warning: kernel.cmdline: "quiet" ignored');
  });

  it("is silent for a command line it parses", () => {
    const f = file("cmdline-ok", { ...small(), kernel: { cpus: 4, cmdline: "nohz_full=1-3 isolcpus=managed_irq,1-3 rcu_nocbs=1-3 irqaffinity=0" } });
    const v = isolsim("validate", f);
    expect(v.status).toBe(0);
    expect(v.stderr).toBe("");
  });
});

describe("output closed early", () => {
  it("exits quietly with the run's code when the reader goes away (| head), no EPIPE stack", () => {
    const r = spawnSync("bash", ["-c", `"${process.execPath}" "${bin}" compare "${residual}" --json --duration 2s | head -c 10 >/dev/null; echo "\${PIPESTATUS[0]}"`], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("0\n");
  });
});

describe("exit codes in --help", () => {
  it("lists exit code 3 and --version", () => {
    const h = isolsim("--help").stdout;
    expect(h).toContain("3 internal error");
    expect(h).toContain("--version");
    expect(isolsim("compare", "--help").stdout).toContain("exit: 3 if any configuration crashed");
  });
});
