export * from "./errors.js";
export * from "./ftrace-line.js";
export * from "./kthread.js";
export * from "./ftrace.js";
export * from "./interrupts.js";
export * from "./osnoise.js";
export * from "./importer.js";
export * from "./format.js";
