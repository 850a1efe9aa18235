// Which priority queues are paused: read from the queue_pauses table. The operations helper's pause/resume writes it.
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';

export interface PausedQueuesReader {
  pausedQueues(): Promise<ReadonlySet<string>>;
}

export function pausedQueuesFromTable(db: () => Promise<PgHandle>): PausedQueuesReader {
  return {
    async pausedQueues() {
      const { rows } = await (await db()).query<{ queue: string }>(`SELECT queue FROM queue_pauses`);
      return new Set(rows.map((r) => r.queue));
    },
  };
}
