/**
 * The gateway process, loaded by src/main.ts once V8's flags are set: config, logger, server,
 * signals. A start-up failure is one `fatal` log line (`msg: "cannot start"`, the reason in
 * `err`) on stdout like every other line, the same reason as one plain line on stderr for a
 * person at a terminal, and exit code 1. SIGTERM/SIGINT drain and exit.
 */
import { pino } from 'pino';
import { ConfigError, configWarnings, loadConfig, misspelledVariables, misspellingWarning, mlflowTlsWarnings, refusalLogLevel } from './config.js';
import { describeError } from './errors.js';
import { createLogger, exitWhenLogged, logFatal } from './logger.js';
import { startGateway, type Gateway } from './server.js';

/** The one message of every start-up failure's log line, so a log query for it finds them all. */
const CANNOT_START = 'cannot start';

async function main(): Promise<void> {
  // A misspelled setting may be what made the configuration invalid: named either way.
  const misspelled = misspelledVariables(process.env).map(({ given, meant }) => ({ given, meant, text: misspellingWarning(given, meant, process.env) }));
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      // Written at once (sync), since the process exits next; at LOG_LEVEL's level, or the
      // default when LOG_LEVEL is what was refused. Each problem is also a field: a log query
      // can find the variable at fault (`problems.0.variable`), and a secret's value is never shown.
      const log = createLogger(refusalLogLevel(process.env), pino.destination({ dest: 1, sync: true }));
      for (const m of misspelled) log.warn({ variable: m.given, meant: m.meant }, m.text);
      log.fatal({ err: err.message, problems: err.details }, CANNOT_START);
      // On stderr too, the misspellings come before the refusal they may explain.
      for (const m of misspelled) process.stderr.write(`churn-gateway: ${m.text}\n`);
      process.stderr.write(`churn-gateway: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.LOG_LEVEL);
  for (const m of misspelled) log.warn({ variable: m.given, meant: m.meant }, m.text);
  for (const w of [...configWarnings(config), ...mlflowTlsWarnings(process.env)]) log.warn({ variables: w.variables }, w.text);
  process.on('unhandledRejection', (reason) => log.error({ err: describeError(reason) }, 'unhandled promise rejection'));

  // Signals are handled from here on, before the gateway listens: ECS may stop a task that is
  // still starting, and a SIGTERM before the handlers were set up ended the process by the
  // signal (no log line, exit 143). One that comes before the gateway exists stops it as soon
  // as it does.
  let gateway: Gateway | undefined;
  let stopping: string | null = null;
  const shutDown = (running: Gateway, signal: string) => void running.shutdown(signal).then((drained) => exitWhenLogged(log, drained ? 0 : 1));
  const stop = (signal: string) => {
    // A second signal while draining (ECS and Ctrl-C both repeat them) does not cut the drain short.
    if (stopping) return log.warn({ signal }, 'already shutting down');
    stopping = signal;
    if (gateway) shutDown(gateway, signal);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('uncaughtException', (err) => {
    logFatal(log, { err: describeError(err), stack: err instanceof Error ? err.stack : undefined, revision: config.GATEWAY_REVISION }, 'uncaught exception; exiting');
    // The process is in a state nothing planned for: it takes no new work while its last lines
    // are written (up to EXIT_LOG_WAIT_MS with a slow log reader). The listener closes, idle
    // connections end, and answers still being written say `connection: close`, so GET / stops
    // answering 200 (on either port) and the load balancer sends the next requests to another task.
    gateway?.app.startDraining();
    gateway?.server.close();
    gateway?.opsServer?.close();
    exitWhenLogged(log, 1);
  });
  /** A start-up failure: the fatal log line, the same reason on stderr, exit 1. */
  const cannotStart = (err: unknown) => {
    logFatal(log, { err: describeError(err), revision: config.GATEWAY_REVISION }, CANNOT_START);
    process.stderr.write(`churn-gateway: ${CANNOT_START}: ${describeError(err)}\n`);
    exitWhenLogged(log, 1);
  };

  try {
    gateway = await startGateway(config, log);
  } catch (err) {
    // Listening failed (a port in use, a HOST that is not this machine's): said in the log too.
    return cannotStart(err);
  }
  if (stopping) shutDown(gateway, stopping);

  try {
    await gateway.ready;
  } catch (err) {
    // A start-up load that the shutdown stopped: the shutdown exits.
    if (stopping) return;
    gateway.server.close();
    gateway.opsServer?.close();
    cannotStart(err);
  }
}

void main();
