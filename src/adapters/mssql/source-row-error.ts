// The error of a source row our mapper refuses: the utility's data broke an assumption the mapper makes.
import { AppError } from '../../errors/app-error.js';

/** Thrown by `mapRows` when a row does not map: a 502, since the source answered with what we cannot serve. */
export class SourceRowInvalidError extends AppError {
  readonly code = 'SOURCE_ROW_INVALID';
  constructor(
    readonly source: string,
    readonly query: string,
    readonly problems: readonly string[],
  ) {
    super(`A row of ${query} on ${source} does not map: ${problems.join('; ')}`);
  }
}
