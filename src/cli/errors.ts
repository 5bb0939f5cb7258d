// Errors the CLI turns into docker's exit codes and messages.

/** A flag or argument problem: exit 125 (for run/create) with a usage hint, like docker's flag errors. */
export class UsageError extends Error {
  constructor(message: string, readonly exitCode = 125, readonly showUsage = false) {
    super(message);
  }
}

/** An invalid flag value: printed like docker's flag errors, with the usage line and no "tug:" prefix. */
export class FlagError extends UsageError {
  constructor(message: string) {
    super(message, 125, true);
  }
}

/** Leave with this status after the message (if any) has been printed. */
export class ExitError extends Error {
  constructor(readonly exitCode: number, message = '') {
    super(message);
  }
}
