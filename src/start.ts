/**
 * The gateway process, loaded by src/main.ts once V8's flags are set: config, logger, server,
 * signals. Start-up failures print one clear line and exit non-zero; SIGTERM/SIGINT drain and
 * exit.
 */
import { ConfigError, loadConfig, misspelledVariables } from './config.js';
import { describeError } from './errors.js';
import { createLogger } from './logger.js';
import { startGateway } from './server.js';

async function main(): Promise<void> {
  // A misspelled setting may be what made the configuration invalid: named either way.
  const misspelled = misspelledVariables(process.env).map(({ given, meant }) => ({
    given,
    meant,
    text: `environment variable ${given} is not read by the gateway; did you mean ${meant}? (${process.env[meant] === undefined ? `${meant} keeps its default` : `${meant} is set, and is what is read`})`,
  }));
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`churn-gateway: ${err.message}\n`);
      for (const m of misspelled) process.stderr.write(`churn-gateway: ${m.text}\n`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.LOG_LEVEL);
  for (const m of misspelled) log.warn({ variable: m.given, meant: m.meant }, m.text);
  process.on('unhandledRejection', (reason) => log.error({ err: describeError(reason) }, 'unhandled promise rejection'));
  process.on('uncaughtException', (err) => {
    log.fatal({ err: describeError(err), stack: err instanceof Error ? err.stack : undefined }, 'uncaught exception; exiting');
    process.exit(1);
  });

  let gateway;
  try {
    gateway = await startGateway(config, log);
  } catch (err) {
    process.stderr.write(`churn-gateway: cannot start: ${describeError(err)}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    // A second signal while draining (ECS and Ctrl-C both repeat them) does not cut the drain short.
    if (stopping) return log.warn({ signal }, 'already shutting down');
    stopping = true;
    void gateway.shutdown(signal).then((drained) => {
      log.flush();
      process.exit(drained ? 0 : 1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  try {
    await gateway.ready;
  } catch (err) {
    const line = `churn-gateway: cannot start: ${describeError(err)}`;
    log.fatal({ err: describeError(err) }, 'cannot start');
    process.stderr.write(`${line}\n`);
    gateway.server.close();
    process.exit(1);
  }
}

void main();
