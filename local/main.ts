import "./log-level";
import { parseArgs } from "node:util";
import { runtimeInfoFile, startRuntime } from "./runtime";

/**
 * `npm start [-- --port N] [--data-dir DIR] [--catalog FILE]`: the local runtime, in the foreground.
 * State lives under the data folder, so a restart keeps every arrival and re-drives unfinished runs.
 */
const { values } = parseArgs({
  options: {
    port: { type: "string" },
    "data-dir": { type: "string", default: ".data" },
    catalog: { type: "string", default: "config/apps.example.json" },
  },
});
const port = Number(values.port ?? process.env.PORT ?? 4321);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`revoke: --port must be a port number, not ${values.port ?? process.env.PORT}\n`);
  process.exit(2);
}

const stamp = () => new Date().toISOString().slice(11, 19);
try {
  const runtime = await startRuntime({
    dataDir: values["data-dir"]!,
    catalogFile: values.catalog!,
    port,
    log: (line) => process.stdout.write(`${stamp()} ${line}\n`),
  });
  const { catalog } = runtime;
  const hooks = Object.entries(catalog.ingress).filter(([, settings]) => settings).map(([name]) => `/hooks/${name}`);
  const cliHint = values["data-dir"] === ".data" ? "npx revoke …" : `npx revoke --data-dir ${values["data-dir"]} … (or REVOKE_DATA_DIR=${values["data-dir"]})`;
  process.stdout.write(`revoke local runtime listening on ${runtime.url}\n`);
  process.stdout.write(`  catalog ${values.catalog}: ${catalog.apps.map((a) => `${a.id} (${a.mode})`).join(", ") || "no apps"}${catalog.idp.okta || catalog.idp.entra ? `; front door: ${[catalog.idp.okta && "okta", catalog.idp.entra && "entra"].filter(Boolean).join(", ")}` : ""}\n`);
  process.stdout.write(`  POST ${runtime.url}/events   canonical events and Okta / HR payloads${hooks.length ? `; webhooks: ${hooks.join(", ")}` : ""}\n`);
  process.stdout.write(`  DynamoDB (dynalite) ${runtime.dynamoEndpoint}, data in ${values["data-dir"]} (${runtimeInfoFile(values["data-dir"]!)}); CLI: ${cliHint}\n`);
  process.stdout.write("  stop with Ctrl-C\n");
  const stop = async () => {
    await runtime.stop();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
} catch (e) {
  process.stderr.write(`revoke: ${(e as Error).message}\n`);
  process.exit(1);
}

