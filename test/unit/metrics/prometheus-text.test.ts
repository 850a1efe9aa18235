// The test parser reads what prom-client writes: families, types, labels (escaped), histogram parts.
import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parsePrometheusText, sampleSum } from '../../support/prometheus-text.js';

describe('Prometheus text parser (test support)', () => {
  it('parses prom-client output: counter labels with escapes, histogram buckets under their family', async () => {
    const registry = new Registry();
    const c = new Counter({ name: 'x_total', help: 'x', labelNames: ['route'], registers: [registry] });
    const h = new Histogram({ name: 'd_seconds', help: 'd', labelNames: ['m'], buckets: [0.1, 1], registers: [registry] });
    c.inc({ route: '/v1/a "b"\\c' }, 3);
    h.observe({ m: 'GET' }, 0.5);
    const families = parsePrometheusText(await registry.metrics());
    expect(families.get('x_total')?.type).toBe('counter');
    expect(families.get('x_total')?.samples).toEqual([{ name: 'x_total', labels: { route: '/v1/a "b"\\c' }, value: 3 }]);
    expect(families.get('d_seconds')?.type).toBe('histogram');
    expect(sampleSum(families, 'd_seconds_count', { m: 'GET' })).toBe(1);
    expect(sampleSum(families, 'd_seconds_bucket', { le: '0.1' })).toBe(0);
    expect(sampleSum(families, 'd_seconds_bucket', { le: '+Inf' })).toBe(1);
  });

  it('refuses a line that is not a sample', () => {
    expect(() => parsePrometheusText('what is this\n')).toThrow(/not a Prometheus sample/);
  });
});
