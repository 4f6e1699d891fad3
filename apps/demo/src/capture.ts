import type { CliIo } from "./commands/command.js";

/** Test double of the CLI's streams: captures what `main()` writes to stdout and stderr (not a TTY). */
export function capture(): { io: CliIo; out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    io: { stdout: { write: (s: string) => ((out += s), true) }, stderr: { isTTY: false, write: (s: string) => ((err += s), true) } },
    out: () => out,
    err: () => err,
  };
}
