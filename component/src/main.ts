#!/usr/bin/env node
import { App } from "./app.js";
import { ConfigError, loadConfig, USAGE } from "./config.js";
import { createLogger } from "./log.js";
import { ConnectionRefusedError } from "./protocol/component-connection.js";
import { DatabaseOpenError, DatabaseVersionError } from "./storage/open-store.js";

function fail(message: string, code: number): never {
  process.stderr.write(`warble-component: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.argv.slice(2));
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, 2);
    throw err;
  }
  if (!config) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const log = createLogger(config.logLevel);
  let app: App;
  try {
    app = await App.create(config, log);
  } catch (err) {
    if (err instanceof DatabaseOpenError) fail(err.message, 2);
    if (err instanceof DatabaseVersionError) fail(err.message, 1);
    throw err;
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    app.stop().then(
      () => {
        log.info("stopped");
        process.exit(0);
      },
      (err: unknown) => fail(`error while stopping: ${(err as Error).message}`, 1),
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  try {
    await app.run();
  } catch (err) {
    if (err instanceof ConnectionRefusedError) fail(err.message, 1);
    throw err;
  }
  app.connection.on("fatal", (err: Error) => fail(err.message, 1));
}

main().catch((err: unknown) =>
  fail(`unexpected error: ${(err as Error)?.message ?? String(err)}`, 1),
);
