// The upload's deadline (http/deadlines.ts uploadDeadlineMs): it grows with the declared size at the slowest client
// speed waited for, is capped at the largest body taken, and assumes the largest without a Content-Length.
import { describe, expect, it } from 'vitest';
import { UPLOAD_MIN_BYTES_PER_S, uploadDeadlineMs } from '../../../http/deadlines.js';

const MAX = 10 * 1024 * 1024;

describe('upload deadline', () => {
  it('grows with the declared size', () => {
    expect(uploadDeadlineMs(0, MAX, 5_000)).toBe(5_000);
    expect(uploadDeadlineMs(UPLOAD_MIN_BYTES_PER_S, MAX, 5_000)).toBe(6_000);
    expect(uploadDeadlineMs(MAX, MAX, 5_000)).toBeGreaterThan(uploadDeadlineMs(MAX / 2, MAX, 5_000));
  });

  it('is capped at the largest body, and assumes it without a Content-Length', () => {
    expect(uploadDeadlineMs(MAX * 100, MAX, 5_000)).toBe(uploadDeadlineMs(MAX, MAX, 5_000));
    expect(uploadDeadlineMs(undefined, MAX, 5_000)).toBe(uploadDeadlineMs(MAX, MAX, 5_000));
  });
});
