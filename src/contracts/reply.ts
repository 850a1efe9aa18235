// The reply channel carried inside a query message: the callee settles it once, with a value or a typed error.

export interface Reply<T> {
  ok(value: T): void;
  fail(error: Error): void;
  /** True once ok or fail was called (or the query was failed by the runtime). */
  readonly settled: boolean;
}

/** The reply type carried by a message, or never when it is a plain tell. */
export type ReplyOf<M> = M extends { replyTo: Reply<infer R> } ? R : never;

/** The fields of a message other than its discriminant and reply channel. */
export type PayloadOf<M> = Omit<M, 'type' | 'replyTo'>;
