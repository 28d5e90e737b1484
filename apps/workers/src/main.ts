/**
 * Entry point of the workers container: read and check the configuration, start the consumers and the
 * health server, and on SIGTERM/SIGINT finish or release the running jobs before exiting.
 */
import { ConfigError } from "@chat/shared/src/config";
import { createLogger } from "@chat/shared/src/log";
import { loadWorkersConfig, type WorkersConfig } from "./config";
import { startWorkers } from "./app";

async function main(): Promise<void> {
  let config: WorkersConfig;
  try {
    config = loadWorkersConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`workers: ${err.message}\n`);
      process.exit(2); // same code as the api and realtime for a bad configuration
    }
    throw err;
  }
  const logger = createLogger({ service: "workers", level: config.logLevel });
  const workers = await startWorkers({ config, logger });

  let signalled = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    logger.info({ signal }, "shutdown requested");
    // Hard stop if something hangs past the grace period (ECS kills at stopTimeout anyway).
    setTimeout(() => {
      logger.error({}, "shutdown took too long: exiting");
      process.exit(1);
    }, config.shutdownGraceMs + 10_000).unref();
    workers.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`workers: failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
