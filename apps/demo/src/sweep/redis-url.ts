// Kept apart from queue.ts: the CLI loads bullmq and ioredis (seconds to import) only when a queue is used.

/** Redis is unreachable or went away: a clear error (exit 2 naming --queue), the results file stays resumable. */
export class RedisUnavailable extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "RedisUnavailable";
  }
}

/** What a redis:// URL says, or the problem with it. */
export interface RedisTarget {
  /** ioredis options. */
  options: { host: string; port: number; username?: string; password?: string; db?: number; tls?: object };
  /** The URL without its password, for messages. */
  shown: string;
}

/** Parses `redis://[user:pass@]host:port[/db]` (or `rediss://`); returns the problem as a string when it is not one. */
export function parseRedisUrl(s: string): RedisTarget | string {
  const valid = "valid: redis://HOST:PORT, e.g. redis://127.0.0.1:6379 (rediss:// for TLS; user:password@ and /DB allowed)";
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return `${JSON.stringify(s)} is not a URL (${valid})`;
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") return `${JSON.stringify(s)} is not a redis:// URL (${valid})`;
  if (u.hostname === "") return `${JSON.stringify(s)} has no host (${valid})`;
  const port = u.port === "" ? 6379 : Number(u.port);
  const db = u.pathname === "" || u.pathname === "/" ? undefined : Number(u.pathname.slice(1));
  if (db !== undefined && !(Number.isInteger(db) && db >= 0 && db <= 15)) return `${JSON.stringify(s)} names database ${JSON.stringify(u.pathname.slice(1))} (valid: /0 to /15)`;
  const options: RedisTarget["options"] = { host: u.hostname.replace(/^\[|\]$/g, ""), port };
  if (u.username) options.username = decodeURIComponent(u.username);
  if (u.password) options.password = decodeURIComponent(u.password);
  if (db !== undefined) options.db = db;
  if (u.protocol === "rediss:") options.tls = {};
  return { options, shown: `${u.protocol}//${u.hostname}:${port}${db !== undefined ? `/${db}` : ""}` };
}

