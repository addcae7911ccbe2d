/** The base of every error the SDK rejects a promise with. */
export class HeraldError extends Error {
  /** A Pusher/Herald wire code when the server sent one. */
  readonly code: number | undefined;
  constructor(message: string, code?: number) {
    super(message);
    this.name = 'HeraldError';
    this.code = code;
  }
}

/** Wire codes of `herald_internal:nack` (docs/protocol.md). */
export const NackCode = {
  /** The connection may not publish on the channel. */
  Unauthorized: 4009,
  /** Over client_event_rate or a hard quota. */
  RateLimited: 4301,
  /** Malformed or too large: resending it fails again. */
  Invalid: 4400,
  /** Not stored: resending with the same id is safe (the SDK does). */
  NotStored: 4500,
} as const;

/** The server refused a publish (`herald_internal:nack`). */
export class PublishRejectedError extends HeraldError {
  constructor(
    readonly id: string,
    code: number,
    message: string,
  ) {
    super(message, code);
    this.name = 'PublishRejectedError';
  }
}

/**
 * A publish was not acknowledged before its deadline. If it had been sent,
 * the server may still have stored it; it is never sent again.
 */
export class PublishTimeoutError extends HeraldError {
  constructor(readonly id: string) {
    super(`publish ${id} was not acknowledged before its deadline`);
    this.name = 'PublishTimeoutError';
  }
}

/** The outbox is full; the newest publish is the one refused. */
export class OutboxFullError extends HeraldError {
  constructor(readonly id: string, limit: number) {
    super(`the outbox holds ${limit} publishes already; publish ${id} was refused`);
    this.name = 'OutboxFullError';
  }
}

/** The client was closed, or the channel left, before the operation ended. */
export class ClosedError extends HeraldError {
  constructor(what: string) {
    super(`${what} was closed`);
    this.name = 'ClosedError';
  }
}

/** An authorization (auth endpoint, authorizer, token provider) failed. */
export class AuthError extends HeraldError {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = 'AuthError';
  }
}

/** An HTTP API answered with an error (history). */
export class HttpError extends HeraldError {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}
