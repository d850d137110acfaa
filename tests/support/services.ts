/** A gateway with several services, each in front of its own fake Z.ai that takes its own key. */

import { loadConfig } from "../../lib/core/config.ts";
import { type FakeUpstream, startFakeUpstream } from "./fake_upstream.ts";
import { type ServedGateway, serveGateway, TEST_KEY } from "./gateway.ts";
import { ADMIN_KEY } from "./kv_server.ts";

/** One service of the test gateway. */
export interface TestService {
  slug: string;
  name?: string;
  enabled?: boolean;
  /** The Z.ai key its fake accepts and its keys variable holds (none: the variable is empty). */
  key?: string;
  /** A path under the fake's origin (default: Z.ai's general API path). */
  path?: string;
}

/** A running gateway and the fake upstream of each service. */
export interface ServicesGateway extends ServedGateway {
  /** slug → the fake behind that service. */
  fakes: Record<string, FakeUpstream>;
}

/** The variable that holds a test service's keys. */
export function keysVariable(slug: string): string {
  return `KEYS_${slug.toUpperCase().replace(/-/g, "_")}`;
}

/**
 * Starts the gateway (DEFAULT_KEY = TEST_KEY, ADMIN_KEY set) with `SERVICES` listing `services`
 * in order, each with a fake Z.ai of its own.
 */
export async function startServicesGateway(
  services: TestService[],
  env: Record<string, string> = {},
): Promise<ServicesGateway> {
  const fakes: Record<string, FakeUpstream> = {};
  const vars: Record<string, string> = {};
  const list = services.map((service) => {
    const fake = startFakeUpstream({ keys: service.key ? [service.key] : [] });
    fakes[service.slug] = fake;
    vars[keysVariable(service.slug)] = service.key ?? "";
    return {
      slug: service.slug,
      ...(service.name ? { name: service.name } : {}),
      url: service.path ? new URL(service.path, fake.url).href : fake.url,
      keys_env: keysVariable(service.slug),
      enabled: service.enabled ?? true,
    };
  });
  const config = loadConfig({
    DEFAULT_KEY: TEST_KEY,
    ADMIN_KEY,
    RATE_LIMIT_RPM: "100000",
    SERVICES: JSON.stringify(list),
    ...vars,
    ...env,
  });
  const served = await serveGateway(config, {
    closeAlso: async () => {
      for (const fake of Object.values(fakes)) await fake.close();
    },
  });
  return { ...served, fakes };
}
