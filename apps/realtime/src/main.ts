/**
 * Process entry of the realtime service. Configuration problems exit with code 2 and a message naming each
 * bad variable. On SIGTERM/SIGINT the service stops accepting (readiness fails, handshakes are refused),
 * disconnects its clients so they reconnect to another task, closes its pools and exits within
 * SHUTDOWN_GRACE_MS (the stacks keep it below the container's stop timeout; ECS sends SIGTERM after the
 * load balancer's deregistration delay).
 */
import { ConfigError, gracefulShutdown } from "@chat/shared";
import { startRealtime } from "./app";
import { SettingsError } from "./settings";

async function main(): Promise<void> {
  let running;
  try {
    running = await startRealtime();
  } catch (err) {
    if (err instanceof ConfigError || err instanceof SettingsError) {
      process.stderr.write(`realtime: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const { config, log } = running;
  gracefulShutdown({
    timeoutMs: config.settings.shutdownGraceMs,
    log,
    steps: [{ name: "drain", run: () => running.stop(config.settings.shutdownGraceMs) }],
  });
}

main().catch((err: Error) => {
  process.stderr.write(`realtime: failed to start: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
