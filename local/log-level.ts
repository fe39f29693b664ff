// Imported first by the local runtime: Powertools reads the level when the shared logger is created
// and restores it on every invocation, so it must be in the environment before any handler module loads.
process.env.POWERTOOLS_LOG_LEVEL ??= "WARN";
process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
