import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/**
 * Constant-time comparison of two secrets of any length: both are hashed first, so neither the
 * content nor the length leaks through timing.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const da = createHash("sha256").update(a).digest();
  const db = createHash("sha256").update(b).digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}

export function hmacHex(secret: string, message: string | Buffer): string {
  return createHmac("sha256", secret).update(message).digest("hex");
}

/** A signed timestamp (unix seconds, or milliseconds) within the window, else the reason it is not. */
export function timestampProblem(header: string | undefined, toleranceSeconds: number, nowMs = Date.now()): string | undefined {
  if (!header) return "signature timestamp header is missing";
  if (!/^\d{9,13}$/.test(header.trim())) return "signature timestamp is not a unix time";
  const n = Number(header.trim());
  const ms = n < 1e11 ? n * 1000 : n;
  if (Math.abs(nowMs - ms) > toleranceSeconds * 1000) return `signature timestamp is outside the ${toleranceSeconds} s window`;
  return undefined;
}
