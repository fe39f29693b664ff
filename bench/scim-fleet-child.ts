/**
 * The bench's SCIM apps, in a process of their own: real apps are elsewhere, so their CPU (scimmy's
 * schema work, HTTP parsing) must not be counted as the engine's, nor compete with it for a core.
 * Driven by the parent over IPC: seed accounts, count requests, stop.
 */
import "../local/log-level";
import { ScimApp } from "../local/scim-app";

type Command = { type: "seed"; emails: string[] } | { type: "requests" } | { type: "stop" };

const { tokens, latencyMs } = JSON.parse(process.env.SCIM_FLEET ?? "{}") as { tokens: string[]; latencyMs: number };
const apps = await Promise.all(tokens.map((token) => new ScimApp({ token, latencyMs }).start()));
const cpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};
const send = (message: unknown) => process.send?.(message);
send({ type: "started", baseUrls: apps.map((a) => a.baseUrl) });

process.on("message", async (command: Command) => {
  if (command.type === "seed") {
    for (const app of apps) for (const email of command.emails) app.jitCreate(email);
    send({ type: "seeded", count: command.emails.length });
  } else if (command.type === "requests") {
    send({ type: "requests", count: apps.reduce((n, a) => n + a.requests.length, 0), rssBytes: process.memoryUsage().rss, cpuMicros: cpuMicros() });
  } else if (command.type === "stop") {
    for (const app of apps) await app.stop();
    send({ type: "stopped" });
    process.exit(0);
  }
});
