// The one error of the HTTP/2 session client: a request that never got a complete answer.
import { AppError, errorMessage } from '../../errors/app-error.js';

/** The request never got a complete answer (connect, TLS, proxy, reset, GOAWAY, timeout, session lost). */
export class H2TransportError extends AppError {
  readonly code = 'FCM_TRANSPORT_FAILED';
  constructor(
    message: string,
    /** 'timeout' when the request or connect timed out, otherwise 'network'. */
    readonly kind: 'network' | 'timeout',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Wraps a socket, TLS or proxy error with what was being done; an H2TransportError passes through. */
export function asTransportError(error: unknown, context: string): H2TransportError {
  if (error instanceof H2TransportError) return error;
  const message = errorMessage(error);
  const code = (error as { code?: unknown } | null)?.code;
  return new H2TransportError(`${context}: ${message}${typeof code === 'string' && !message.includes(code) ? ` (${code})` : ''}`, 'network', { cause: error });
}
