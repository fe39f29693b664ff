import { ConfigError } from "./errors";

/** Fails fast, with one clear message, on configuration a function cannot run without. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new ConfigError(`${name} is not set`);
  return value;
}
