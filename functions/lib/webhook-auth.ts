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

/**
 * A signed timestamp, in unix seconds exactly (ten digits), within the window; else the reason it is
 * not. One format only: BambooHR signs body + timestamp with no separator, so accepting a longer
 * timestamp would let digits move between the body and the header and still verify.
 */
export function timestampProblem(header: string | undefined, toleranceSeconds: number, nowMs = Date.now()): string | undefined {
  if (!header) return "signature timestamp header is missing";
  if (!/^\d{10}$/.test(header.trim())) return "signature timestamp is not unix seconds";
  if (Math.abs(nowMs - Number(header.trim()) * 1000) > toleranceSeconds * 1000) return `signature timestamp is outside the ${toleranceSeconds} s window`;
  return undefined;
}
