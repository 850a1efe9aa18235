// The four priority queues, highest first: their names, their order, and the check that a name is one of them.

export const PRIORITY_QUEUES = ['urgent', 'high_priority', 'normal', 'low_priority'] as const;
export type PriorityQueue = (typeof PRIORITY_QUEUES)[number];

/** 0 for urgent … 3 for low_priority: a smaller rank is a higher priority. */
export function priorityRank(queue: PriorityQueue): number {
  return PRIORITY_QUEUES.indexOf(queue);
}

export function isPriorityQueue(name: string): name is PriorityQueue {
  return (PRIORITY_QUEUES as readonly string[]).includes(name);
}
