// A build that fails for a reason the user must fix (bad instruction, missing file, failing RUN): reported in
// the build's output stream, or as a 400 before the stream starts.
export class BuildError extends Error {
  constructor(message: string, readonly code = 1) {
    super(message);
  }
}
