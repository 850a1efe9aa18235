// Errors of the control plane: a command addressed to a node that is not alive, or that did not answer in time.
import { AppError } from './app-error.js';

/** No alive node has this id in the node registry (never started, stopped, or its heartbeat expired). */
export class NodeNotFoundError extends AppError {
  readonly code = 'NODE_NOT_FOUND';
  constructor(readonly node: string) {
    super(`no alive node named ${node}`);
  }
}

/** The addressed node is alive in the registry but did not answer the command within the timeout. */
export class NodeTimeoutError extends AppError {
  readonly code = 'NODE_TIMEOUT';
  constructor(
    readonly node: string,
    readonly timeoutMs: number,
  ) {
    super(`node ${node} did not answer within ${timeoutMs} ms`);
  }
}
