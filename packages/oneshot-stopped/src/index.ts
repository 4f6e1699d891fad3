export * from "./oneshot-stopped.js";
