// A counting semaphore: at most `size` holders at once, the others wait in arrival order.

export interface Semaphore {
  acquire(): Promise<void>;
  release(): void;
}

export function semaphore(size: number): Semaphore {
  let free = size;
  const waiting: Array<() => void> = [];
  return {
    acquire() {
      if (free > 0) {
        free--;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
    release() {
      const next = waiting.shift();
      if (next) next();
      else free++;
    },
  };
}
