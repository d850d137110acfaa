/** The error a bad variable raises at start; config.ts and services.ts both throw it. */

/** Thrown when a variable has an invalid value; the message names the variable. */
export class ConfigError extends Error {
  /** The variable at fault, e.g. `SERVICES`. */
  readonly variable: string;

  /**
   * `Invalid NAME="value": expected …`; with a null `value` (one the message must not repeat,
   * or too long to), `Invalid NAME: …` followed by `expected` as the whole explanation.
   */
  constructor(variable: string, value: string | null, expected: string) {
    super(
      value === null
        ? `Invalid ${variable}: ${expected}`
        : `Invalid ${variable}=${JSON.stringify(value)}: expected ${expected}`,
    );
    this.name = "ConfigError";
    this.variable = variable;
  }
}
