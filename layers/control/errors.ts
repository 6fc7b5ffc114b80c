/**
 * The control plane's typed errors. Each carries the HTTP status and a stable code; the API edge
 * (api/responses.ts) turns them into `{ "error": { "code", "message" } }`. Messages are written
 * for the caller: they say what is wrong and, where it helps, what to do. No secret in them.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequest extends ApiError {
  constructor(message: string, code = 'BAD_REQUEST') {
    super(400, code, message);
  }
}

export class Unauthorized extends ApiError {
  constructor(message = 'missing or wrong bearer token: send "Authorization: Bearer TOKEN"') {
    super(401, 'UNAUTHORIZED', message);
  }
}

export class Forbidden extends ApiError {
  constructor(message: string, code = 'FORBIDDEN') {
    super(403, code, message);
  }
}

export class NotFound extends ApiError {
  constructor(message: string, code = 'NOT_FOUND') {
    super(404, code, message);
  }
}

export class Conflict extends ApiError {
  constructor(message: string, code = 'CONFLICT') {
    super(409, code, message);
  }
}

export class PayloadTooLarge extends ApiError {
  constructor(limit: number) {
    super(413, 'PAYLOAD_TOO_LARGE', `the request body is larger than ${limit} bytes`);
  }
}

export class Unprocessable extends ApiError {
  constructor(message: string, code = 'UNPROCESSABLE') {
    super(422, code, message);
  }
}
