export * from "./remote-stats.js";
export * from "./loadavg.js";
export * from "./staleness.js";
