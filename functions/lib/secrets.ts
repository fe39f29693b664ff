import { getSecret } from "@aws-lambda-powertools/parameters/secrets";
import { ConfigError } from "./errors";

/**
 * A credential reference from the catalog: a Secrets Manager ARN on AWS (fetched and cached for five
 * minutes by Powertools), or an environment variable name in the local runtime. The value is never logged.
 */
export async function resolveSecret(ref: string): Promise<string> {
  if (ref.startsWith("arn:aws:secretsmanager:")) {
    const value = await getSecret(ref, { maxAge: 300 });
    if (typeof value !== "string" || !value) throw new ConfigError(`secret ${ref} is empty or not a string`);
    return value;
  }
  const value = process.env[ref];
  if (!value) throw new ConfigError(`credential environment variable ${ref} is not set`);
  return value;
}
