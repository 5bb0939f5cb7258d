// Errors of the distribution spec: a code from its table (plus distribution's RANGE_INVALID, TAG_INVALID and
// PAGINATION_NUMBER_INVALID, which docker clients know), the status it goes with, and the JSON body
// {"errors":[{"code","message","detail"}]}.

const STATUS = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  TAG_INVALID: 400,
  PAGINATION_NUMBER_INVALID: 400,
  RANGE_INVALID: 416,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  UNKNOWN: 500,
} as const;

export type ErrorCode = keyof typeof STATUS;

interface Entry { code: ErrorCode; message: string; detail?: unknown }

export class RegistryError extends Error {
  readonly entries: Entry[];
  readonly status: number;
  /** Extra response headers (Range and Location of an upload, a challenge). */
  readonly headers: Record<string, string>;

  constructor(readonly code: ErrorCode, message: string, detail?: unknown, opts: { status?: number; headers?: Record<string, string> } = {}) {
    super(message);
    this.entries = [{ code, message, ...(detail === undefined ? {} : { detail }) }];
    this.status = opts.status ?? STATUS[code];
    this.headers = opts.headers ?? {};
  }

  /** One response listing several problems (every missing blob of a manifest); the first one's status. */
  static all(errors: RegistryError[]): RegistryError {
    const e = new RegistryError(errors[0].code, errors[0].message, undefined, { status: errors[0].status });
    e.entries.splice(0, 1, ...errors.flatMap((x) => x.entries));
    return e;
  }

  body(): string {
    return JSON.stringify({ errors: this.entries });
  }
}
