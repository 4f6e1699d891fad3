export * from "./text.js";
export * from "./table.js";
export * from "./compare.js";
export * from "./perfetto.js";
export * from "./ftrace.js";
export * from "./real.js";
