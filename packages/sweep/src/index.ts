export * from "./sweep-file.js";
export * from "./metrics.js";
export * from "./results.js";
export * from "./summary.js";
