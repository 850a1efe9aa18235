// The REQUEST_* settings: the upload sweep age must stay above the longest upload, so a live upload is never swept.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { largestUploadDeadlineMs, UPLOAD_SWEEP_MARGIN_MS } from '../../../src/config/requests.js';
import { configProblems } from '../../support/config-problems.js';

const problems = configProblems;

describe('requests config', () => {
  it('takes the default sweep age (an hour), above the longest upload of the default 10 MB limit', () => {
    expect(loadConfig({}).requests.uploadSweepAgeMs).toBe(3_600_000);
    expect(largestUploadDeadlineMs(10 * 1024 * 1024, 5_000) + UPLOAD_SWEEP_MARGIN_MS).toBeLessThan(3_600_000);
  });

  it('refuses a sweep age not above the longest upload plus the margin, naming the variable and the bound', () => {
    const least = largestUploadDeadlineMs(10 * 1024 * 1024, 5_000) + UPLOAD_SWEEP_MARGIN_MS;
    const refused = problems({ REQUEST_UPLOAD_SWEEP_AGE_MS: String(least) });
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(/^REQUEST_UPLOAD_SWEEP_AGE_MS: must be above \d+ ms/);
    expect(refused[0]).toContain(String(least));
    expect(problems({ REQUEST_UPLOAD_SWEEP_AGE_MS: String(least + 1) })).toEqual([]);
    expect(problems({ REQUEST_UPLOAD_SWEEP_AGE_MS: '1000' })).toHaveLength(1);
  });

  it('moves the bound with the attachment limit and the default deadline', () => {
    const env = { REQUEST_ATTACHMENT_MAX_BYTES: String(120 * 1024 * 1024), REQUEST_UPLOAD_SWEEP_AGE_MS: '3600000' };
    // 120 MB at the slowest client is 64 minutes: more than an hour.
    expect(problems(env)).toHaveLength(1);
    expect(problems({ ...env, REQUEST_ATTACHMENT_MAX_BYTES: String(1024 * 1024) })).toEqual([]);
    expect(problems({ QUERY_DEADLINE_MS: '3600000' })).toHaveLength(1);
  });
});
