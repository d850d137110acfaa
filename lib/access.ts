/** Governance backed by DEFAULT_KEY only (placeholder until keys and limits on KV land). */

import type { Config } from "./config.ts";
import { ApiError } from "./errors.ts";
import type { Governance } from "./governance.ts";

/** What {@link createGovernance} needs. */
export interface GovernanceDeps {
  config: Readonly<Config>;
  kv: Deno.Kv;
  now: () => number;
}

/** Builds the gateway's governance. */
export function createGovernance(deps: GovernanceDeps): Governance {
  return {
    admit(apiKey) {
      if (!apiKey) {
        return Promise.reject(
          new ApiError(
            401,
            "authentication",
            "Missing API key: send it as x-api-key or Authorization: Bearer",
          ),
        );
      }
      if (!deps.config.defaultKey || apiKey !== deps.config.defaultKey) {
        return Promise.reject(new ApiError(401, "authentication", "Unknown API key"));
      }
      return Promise.resolve({ caller: { keyId: "default", user: "default" }, headers: {} });
    },
    record: () => Promise.resolve(),
    describe: (caller) => Promise.resolve({ user: caller.user }),
  };
}
