// dynalite on its own thread (see dynamo.ts). Plain JavaScript: a worker thread does not inherit the
// TypeScript loader that runs the rest of the runtime (tsx, or vitest's transform in tests).
import { parentPort, workerData } from "node:worker_threads";
import dynalite from "dynalite";
import { browserRefusal } from "./browser-guard.mjs";

const server = dynalite({ path: workerData.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
// The ledger answers this machine's tools only, never a web page (see browser-guard.mjs): refused before dynalite sees it.
const [serve] = server.listeners("request");
server.removeAllListeners("request");
server.on("request", (req, res) => {
  const refusal = browserRefusal(req.headers);
  if (!refusal) return serve(req, res);
  res.writeHead(403, { "content-type": "application/x-amz-json-1.0" });
  res.end(JSON.stringify({ __type: "com.amazon.coral.service#AccessDeniedException", message: refusal }));
});
/** Requests served, by operation (GetItem, UpdateItem, …): the benchmark reports them per offboarding. */
const counts = {};
server.on("request", (req) => {
  const op = String(req.headers["x-amz-target"] ?? "").split(".").pop() || "unknown";
  counts[op] = (counts[op] ?? 0) + 1;
});
server.once("error", (e) => parentPort.postMessage({ type: "error", message: e.message }));
server.listen(0, "127.0.0.1", () => parentPort.postMessage({ type: "listening", port: server.address().port }));
parentPort.on("message", (message) => {
  if (message.type === "counts") parentPort.postMessage({ type: "counts", counts: { ...counts } });
  // Closing the server closes the LevelDB folder too, so another runtime may open it afterwards.
  if (message.type === "close") server.close(() => parentPort.postMessage({ type: "closed" }));
});
