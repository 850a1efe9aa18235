// How a failure reads in a delivery's result and the outage log: the error's class name, then its message.
export const failureDetail = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));
