import type { z } from "zod";

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let node = input;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** One schema issue as one line a sender can act on: the field, and what is wrong with it. */
export function describeIssue(error: z.ZodError, where?: string, input?: unknown): string {
  const issue = error.issues[0]!;
  const field = issue.path.join(".") || "body";
  const missing = (issue.code === "invalid_type" && /received undefined/.test(issue.message)) || (input !== undefined && issue.path.length > 0 && valueAt(input, issue.path) === undefined);
  const message = missing ? "is required" : issue.message.replace(/^Invalid input: /, "");
  return `${where ? `${where}: ` : ""}${field}: ${message}`;
}
