// dynalite on its own thread (see dynamo.ts). Plain JavaScript: a worker thread does not inherit the
// TypeScript loader that runs the rest of the runtime (tsx, or vitest's transform in tests).
import { parentPort, workerData } from "node:worker_threads";
import dynalite from "dynalite";

const server = dynalite({ path: workerData.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
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
