/**
 * Warble for the publishing bench: a warble-component on the given store (a SQLite file or a
 * PostgreSQL URL), attached to the bench's server, with the abuse limits out of the way (every
 * sink JID is a request from one remote domain) and a health line a second.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ComponentProcess, spawnComponent } from "../../test/harness/component.js";
import type { FanoutServer } from "../lib/servers.js";

export async function startWarble(
  server: FanoutServer,
  db: string,
  dir: string,
): Promise<ComponentProcess> {
  const config = join(dir, "config.json");
  const many = 1_000_000_000;
  writeFileSync(
    config,
    JSON.stringify({
      limits: {
        maxRequestsPerDomainPerMinute: many,
        maxRequestsPerRequesterPerMinute: many,
        maxPendingPerDomainPerNode: many,
        maxPendingPerNode: many,
      },
    }),
  );
  const component = spawnComponent(
    // At info Warble logs its "ready" line and nothing per stanza.
    [...server.componentArgs(db), "--config", config, "--log-level", "info"],
    { WARBLE_SECRET: server.secret, WARBLE_HEALTH_LOG_SECONDS: "1" },
  );
  try {
    await component.waitForLine(/"msg":"ready"/, 60_000);
  } catch (err) {
    await component.stop().catch(() => {});
    throw err;
  }
  return component;
}
