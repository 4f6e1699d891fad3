import { main } from "./main.js";

// A reader that goes away (`isolsim run F | head`) is not an error of isolsim: exit quietly with
// the code of the run, as other Unix tools do, instead of an unhandled EPIPE with a stack.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE" && stream === process.stdout) process.stderr.write(`isolsim: cannot write the output: ${e.code ?? e.message}\n`);
    process.exit(e.code === "EPIPE" ? (process.exitCode ?? 0) : 3);
  });
}

process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
