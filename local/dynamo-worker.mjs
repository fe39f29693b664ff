// dynalite on its own thread (see dynamo.ts). Plain JavaScript: a worker thread does not inherit the
// TypeScript loader that runs the rest of the runtime (tsx, or vitest's transform in tests).
import { EventEmitter } from "node:events";
import { parentPort, workerData } from "node:worker_threads";
import dynalite from "dynalite";
import { browserRefusal } from "./browser-guard.mjs";

const server = dynalite({ path: workerData.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
const [serve] = server.listeners("request");
server.removeAllListeners("request");

/** Requests served, by operation (GetItem, UpdateItem, …): the benchmark reports them per offboarding. */
const counts = {};
const count = (headers) => {
  const op = String(headers["x-amz-target"] ?? "").split(".").pop() || "unknown";
  counts[op] = (counts[op] ?? 0) + 1;
};

// Over loopback HTTP (the CLI, other processes): the ledger answers this machine's tools only, never a
// web page (see browser-guard.mjs), refused before dynalite sees it.
server.on("request", (req, res) => {
  count(req.headers);
  const refusal = browserRefusal(req.headers);
  if (!refusal) return serve(req, res);
  res.writeHead(403, { "content-type": "application/x-amz-json-1.0" });
  res.end(JSON.stringify({ __type: "com.amazon.coral.service#AccessDeniedException", message: refusal }));
});

/**
 * The runtime's own handlers send their requests over a message port instead (dynamo.ts): the same
 * dynalite request handler, given a request and a response that carry just what it reads and writes,
 * without a socket or HTTP parsing on either side.
 */
workerData.requests.on("message", ({ id, method, path, headers, body }) => {
  count(headers);
  const req = Object.assign(new EventEmitter(), { method, url: path, headers });
  const responseHeaders = {};
  const res = {
    statusCode: 200,
    setHeader: (name, value) => void (responseHeaders[name.toLowerCase()] = String(value)),
    end: (text) => workerData.requests.postMessage({ id, statusCode: res.statusCode, headers: responseHeaders, body: text ?? "" }),
  };
  serve(req, res);
  if (body) req.emit("data", Buffer.from(body));
  req.emit("end");
});

server.once("error", (e) => parentPort.postMessage({ type: "error", message: e.message }));
server.listen(0, "127.0.0.1", () => parentPort.postMessage({ type: "listening", port: server.address().port }));
parentPort.on("message", (message) => {
  if (message.type === "counts") parentPort.postMessage({ type: "counts", counts: { ...counts } });
  // Closing the server closes the LevelDB folder too, so another runtime may open it afterwards.
  if (message.type === "close") {
    workerData.requests.close();
    server.close(() => parentPort.postMessage({ type: "closed" }));
  }
});
