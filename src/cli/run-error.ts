// Turning errors into docker's messages and exit codes.
import { EngineError } from '../client/errors.js';
import { ExitError, UsageError } from './errors.js';

/** Print the error as docker would and return the exit status. `runLike` = run (daemon errors exit 125 with a "tug: " prefix). */
export function reportError(e: unknown, commandName: string, runLike: boolean, usage = '', err: NodeJS.WritableStream = process.stderr): number {
  if (e instanceof ExitError) {
    if (e.message) err.write(`${e.message}\n`);
    return e.exitCode;
  }
  if (e instanceof UsageError && e.showUsage) {
    err.write(`${e.message}\n\n${usage}\n\nRun '${commandName} --help' for more information\n`);
    return e.exitCode;
  }
  if (e instanceof UsageError) {
    err.write(`tug: ${e.message}\n\nRun '${commandName} --help' for more information\n`);
    return e.exitCode;
  }
  const msg = e instanceof EngineError ? `Error response from daemon: ${e.message}` : e instanceof Error ? e.message : String(e);
  if (runLike) {
    err.write(`tug: ${msg}\n\nRun '${commandName} --help' for more information\n`);
    return 125;
  }
  err.write(`${msg}\n`);
  return 1;
}
