// An idle watchdog on an upload's stream: a silence longer than the limit destroys the stream with UploadStalledError.
import { PassThrough, type Readable } from 'node:stream';
import { UploadStalledError } from './http-errors.js';

export interface IdleWatched {
  /** The bytes of the source, failing with UploadStalledError after `idleMs` without one. */
  readonly stream: Readable;
  /** Whether the watchdog fired. */
  stalled(): boolean;
  /** Stops watching (the upload ended either way). */
  stop(): void;
}

export function idleWatched(source: Readable, idleMs: number): IdleWatched {
  const out = new PassThrough();
  let fired = false;
  let done = false;
  let timer: NodeJS.Timeout | undefined;
  const pause = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  const stop = (): void => {
    done = true;
    pause();
  };
  const arm = (): void => {
    pause();
    // Once the upload ended either way, nothing re-arms it (a discarded body resumes its source).
    if (done) return;
    timer = setTimeout(() => {
      fired = true;
      done = true;
      const error = new UploadStalledError(idleMs);
      // Both ends fail: the reader (the storage upload aborts) and the source (the parser stops feeding it).
      out.destroy(error);
      source.destroy(error);
    }, idleMs);
  };
  source.on('data', arm);
  // The clock runs only while the source is expected to send: a slow reader (storage) pausing it is not the client.
  source.on('pause', pause);
  source.on('resume', arm);
  source.once('end', stop);
  source.once('error', (e) => {
    const ended = done;
    stop();
    if (!ended) out.destroy(e);
  });
  // Kept on the stream for its reader, if any: a refused upload's stream is never read, and its failure is no crash.
  out.on('error', () => undefined);
  out.once('close', stop);
  source.pipe(out);
  arm();
  return { stream: out, stalled: () => fired, stop };
}
