import { runAll } from "./example.js";

const rows = runAll();
const us = (ns: number): string => (ns / 1000).toFixed(1);
console.log("config                                 CPU1 ticks  CPU7 spurious  noise CPUs 1-6 (us)  remote ticks  violations");
for (const f of rows) {
  console.log(
    `${f.config.padEnd(38)} ${String(f.cpu1Ticks).padStart(10)}  ${String(f.cpu7Spurious).padStart(13)}  ${us(f.busyNoiseNs).padStart(19)}  ${String(f.remoteTicks).padStart(12)}  ${String(f.violations).padStart(10)}`,
  );
}
