import type { z } from "zod";

/** One schema issue as one line a sender can act on: the field, and what is wrong with it. */
export function describeIssue(error: z.ZodError, where?: string): string {
  const issue = error.issues[0]!;
  const field = issue.path.join(".") || "body";
  const missing = issue.code === "invalid_type" && /received undefined/.test(issue.message);
  const message = missing ? "is required" : issue.message.replace(/^Invalid input: /, "");
  return `${where ? `${where}: ` : ""}${field}: ${message}`;
}
