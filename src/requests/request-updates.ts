// An agency's change to a request (PATCH /v1/requests/{id}): status and/or reply by an agent of the request's agency
// or an admin; each change a history row, and the author told (`request_status`) in the same transaction.
import type { Caller } from '../contracts/caller.js';
import type { RequestDetail, UpdateRequestInput } from '../contracts/requests-messages.js';
import { acceptSystemJob } from '../notifications/index.js';
import type { RequestDeps } from './request-deps.js';
import { RequestNotFoundError, RequestUpdateForbiddenError } from './request-errors.js';
import { REQUEST_COLUMNS, mayReadRequest, requestById, requestDetail, type RequestRow } from './request-rows.js';

export class RequestUpdates {
  constructor(private readonly deps: RequestDeps) {}

  /**
   * A customer is refused with 403 before any lookup (the route is theirs to read, never to change, whatever the
   * id); an agent of another agency gets the 404 of an unknown id. A change that changes nothing writes nothing.
   */
  async update(caller: Caller, id: string, input: UpdateRequestInput): Promise<RequestDetail> {
    if (caller.role === 'customer') throw new RequestUpdateForbiddenError();
    const db = await this.deps.db();
    return db.transaction(async (c) => {
      const row = await requestById(c, id, true);
      if (!row || !mayReadRequest(caller, row)) throw new RequestNotFoundError();
      const status = input.status ?? row.status;
      const reply = input.reply ?? null;
      if (status === row.status && reply === null) return requestDetail(c, row);
      const at = new Date(this.deps.clock.now());
      const { rows } = await c.query<RequestRow>(
        `WITH updated AS (UPDATE requests SET status = $2, reply = COALESCE($3, reply), updated_at = $4 WHERE id = $1 RETURNING *)
         SELECT ${REQUEST_COLUMNS} FROM updated r`,
        [row.id, status, reply, at],
      );
      const updated = rows[0]!;
      await c.query(
        `INSERT INTO request_history (request_id, at, by_user, by_role, from_status, to_status, reply) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [row.id, at, caller.userId, caller.role, row.status, status, reply],
      );
      // An anonymised request has nobody to tell.
      if (row.author_id !== null) {
        await acceptSystemJob(
          c,
          {
            causedBy: caller.userId,
            target: { kind: 'user', userId: row.author_id },
            type: 'request_status',
            title: 'Your request was updated',
            body: reply === null ? `Your request is now ${STATUS_WORDS[status]}.` : `Your request is ${STATUS_WORDS[status]}. The agency replied.`,
            data: { requestId: row.id, status },
          },
          at,
        );
      }
      return requestDetail(c, updated);
    });
  }
}

const STATUS_WORDS = { open: 'open', in_progress: 'in progress', resolved: 'resolved', rejected: 'rejected' } as const;
