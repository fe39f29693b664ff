/**
 * Error classes whose `name` Step Functions matches in Retry/Catch. On AWS a Lambda error's
 * `errorType` is the thrown error's name; the local runtime keeps the same name, so one ASL works in both.
 */
export class Throttled extends Error {
  override name = "Throttled";
  constructor(message: string, readonly retryAfterSeconds?: number) {
    super(message);
  }
}

/** 5xx, 409, timeouts, resets: worth retrying with backoff. */
export class Transient extends Error {
  override name = "Transient";
}

/** A request the downstream will never accept as sent (4xx other than 404/409/429). */
export class Permanent extends Error {
  override name = "Permanent";
}

/** A payload that is not one we accept; the reason is safe to show the sender. */
export class ValidationError extends Error {
  override name = "ValidationError";
}

/** Configuration that cannot work; stops start-up. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** A read-back that shows the account still active: the revocation did not take. */
export class Unverified extends Error {
  override name = "Unverified";
}

/** Identifiers that belong to different people: never merged automatically. */
export class IdentityConflict extends Error {
  override name = "IdentityConflict";
}
