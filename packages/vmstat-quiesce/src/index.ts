export * from "./vmstat-quiesce.js";
