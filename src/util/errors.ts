// Errors that carry the HTTP status the Engine API answers with; the message is what the docker CLI prints.
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}
export const notFound = (msg: string) => new ApiError(404, msg);
export const conflict = (msg: string) => new ApiError(409, msg);
export const badRequest = (msg: string) => new ApiError(400, msg);
export const notModified = () => new ApiError(304, '');

export const noSuchContainer = (ref: string) => notFound(`No such container: ${ref}`);
export const noSuchImage = (ref: string) => notFound(`No such image: ${ref}`);

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
