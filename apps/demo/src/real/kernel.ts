import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join } from "node:path";
import { MissingTool, which } from "./initramfs.js";

/** The directory isolsim caches kernels, workload binaries and initramfs images in: `$ISOLSIM_CACHE`, else `$XDG_CACHE_HOME/isolsim`, else `~/.cache/isolsim`. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ISOLSIM_CACHE) return env.ISOLSIM_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "isolsim");
}

/** A kernel ready to boot. */
export interface GuestKernel {
  /** The image qemu boots. */
  image: string;
  /** Its release (`6.1.0-57-amd64`), from the file name or the package. */
  release: string;
  /** CONFIG_HZ from its config, or null when no config was found beside it. */
  hz: number | null;
  /** CONFIG_PREEMPT_RT=y. */
  rt: boolean;
  /** The Debian package it came from, when it did. */
  package: string | null;
  /** The config file read, when one was. */
  config: string | null;
}

/** A kernel that cannot be had (package unknown to apt, download failed, no image in it): exit 2. */
export class KernelUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KernelUnavailable";
  }
}

/** The preset that matches a kernel release: `linux-6.12-rt` for a 6.12 PREEMPT_RT kernel, `linux-6.12` for 6.12, `linux-6.1` for 6.1, `linux-4.9` for 4.9; null for other versions. */
export function presetForRelease(release: string, rt: boolean): string | null {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return null;
  const v = `${m[1]}.${m[2]}`;
  if (v === "6.12") return rt ? "linux-6.12-rt" : "linux-6.12";
  if (v === "6.1" || v === "4.9") return `linux-${v}`;
  return null;
}

/** CONFIG_HZ and CONFIG_PREEMPT_RT of a kernel config's text. */
export function configFacts(text: string): { hz: number | null; rt: boolean } {
  const hz = /^CONFIG_HZ=(\d+)$/m.exec(text);
  return { hz: hz ? Number(hz[1]) : null, rt: /^CONFIG_PREEMPT_RT=y$/m.test(text) };
}

/** The config of a kernel image: `config-RELEASE` beside it (a Debian /boot), else none. */
function configBeside(image: string): { config: string | null; release: string } {
  const name = basename(image);
  const release = name.replace(/^(vmlinuz|bzImage|vmlinux)-?/, "");
  const candidates = release !== "" ? [join(dirname(image), `config-${release}`), join(dirname(image), "..", ".config")] : [join(dirname(image), "..", "..", "..", ".config"), join(dirname(image), ".config")];
  return { config: candidates.find((c) => existsSync(c)) ?? null, release: release || name };
}

/** A kernel given with `--kernel PATH`. */
export function kernelFromPath(image: string): GuestKernel {
  if (!existsSync(image)) throw new KernelUnavailable(`--kernel: ${image} does not exist (valid: a bzImage or vmlinuz file)`);
  const { config, release } = configBeside(image);
  const facts = config ? configFacts(readFileSync(config, "utf8")) : { hz: null, rt: /-rt-/.test(release) };
  return { image, release, hz: facts.hz, rt: facts.rt, package: null, config };
}

/** The newest Debian 12 6.1 kernel package apt knows (`linux-image-6.1.0-N-amd64-unsigned`), the default of `isolsim real`. */
export function defaultKernelPackage(): string {
  if (which("apt-cache") === null) throw new KernelUnavailable("no --kernel given and apt-cache is missing: give --kernel PATH (a bzImage) or run on Debian/Ubuntu");
  const r = spawnSync("apt-cache", ["search", "--names-only", "^linux-image-6\\.1\\.0-[0-9]+-amd64-unsigned$"], { encoding: "utf8" });
  const names = r.stdout
    .split("\n")
    .map((l) => l.split(" ")[0]!)
    .filter((n) => /^linux-image-6\.1\.0-\d+-amd64-unsigned$/.test(n))
    .sort((a, b) => Number(/6\.1\.0-(\d+)/.exec(a)![1]) - Number(/6\.1\.0-(\d+)/.exec(b)![1]));
  const last = names.at(-1);
  if (last === undefined) throw new KernelUnavailable("apt knows no linux-image-6.1.0-*-amd64-unsigned package (Debian 12's 6.1): give --kernel PATH or --kernel-package NAME");
  return last;
}

/** Why `name` is not a Debian kernel package name (`--kernel-package: … (valid: …)`), or null when it is one. */
export function packageNameProblem(name: string): string | null {
  return /^linux-image-[a-z0-9.+~-]+$/.test(name) ? null : `--kernel-package: "${name}" is not valid (valid: a Debian kernel package name such as linux-image-6.1.0-57-amd64-unsigned)`;
}

/**
 * A kernel from a Debian package (`--kernel-package NAME`): `apt-get download NAME` into
 * `<cache>/kernels`, then its /boot (vmlinuz and config) extracted with `dpkg-deb` into
 * `<cache>/kernels/NAME/`. Both are reused when present; the modules are not extracted (the
 * initramfs needs no driver).
 */
export function kernelFromPackage(name: string, cache: string, onStep: (s: string) => void = () => {}): GuestKernel {
  const bad = packageNameProblem(name);
  if (bad !== null) throw new KernelUnavailable(bad);
  const dir = join(cache, "kernels");
  const root = join(dir, name);
  if (!existsSync(join(root, "boot"))) {
    for (const tool of ["apt-get", "dpkg-deb"]) if (which(tool) === null) throw new MissingTool(tool, "apt dpkg");
    mkdirSync(dir, { recursive: true });
    let deb = readdirSync(dir).find((f) => f.startsWith(`${name}_`) && f.endsWith(".deb"));
    if (deb === undefined) {
      onStep(`downloading ${name}`);
      const r = spawnSync("apt-get", ["download", name], { cwd: dir, encoding: "utf8" });
      deb = readdirSync(dir).find((f) => f.startsWith(`${name}_`) && f.endsWith(".deb"));
      if (r.status !== 0 || deb === undefined) {
        const why = (r.stderr || r.stdout || "").trim().split("\n").filter((l) => !l.startsWith("W:")).slice(-2).join(" | ");
        throw new KernelUnavailable(`--kernel-package: apt-get download ${name} failed: ${why || `exit ${r.status}`} (apt-cache search linux-image lists what this machine's apt sources offer)`);
      }
    }
    onStep(`extracting ${deb}`);
    const tmp = `${root}.tmp${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const x = spawnSync("sh", ["-c", `dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" ./boot`, "sh", join(dir, deb), tmp], { encoding: "utf8" });
    if (x.status !== 0) {
      rmSync(tmp, { recursive: true, force: true });
      throw new KernelUnavailable(`--kernel-package: ${deb} has no /boot to extract: ${x.stderr.trim()}`);
    }
    rmSync(root, { recursive: true, force: true });
    renameSync(tmp, root);
  }
  const boot = join(root, "boot");
  const image = readdirSync(boot).find((f) => f.startsWith("vmlinuz-"));
  if (image === undefined) throw new KernelUnavailable(`--kernel-package: ${name} holds no boot/vmlinuz-* (is it a linux-image package?)`);
  const k = kernelFromPath(join(boot, image));
  return { ...k, package: name };
}
