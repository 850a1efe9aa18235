// Small live charts drawn as inline SVG (no chart library): a queue's depth and rates over the last minutes of
// snapshots, and FCM outcomes per minute as stacked bars. Sized by viewBox, so CSS scales them to any width.
import { svg } from './dom.js';

const W = 240;
const H = 48;

/** Lines over a shared scale: `series` is [{ values, className, label }]; the largest value is printed top left. */
export function lineChart(series, { label } = {}) {
  const points = Math.max(2, ...series.map((s) => s.values.length));
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const x = (i) => (i * W) / (points - 1);
  const y = (v) => H - 2 - (v / max) * (H - 12);
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart line-chart', role: 'img', 'aria-label': label ?? 'chart' });
  chart.append(svg('line', { x1: 0, x2: W, y1: H - 2, y2: H - 2, class: 'axis' }));
  for (const s of series) {
    if (s.values.length === 0) continue;
    const offset = points - s.values.length;
    const coords = s.values.map((v, i) => `${x(i + offset).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    chart.append(svg('polyline', { points: coords, class: `series ${s.className}` }, svg('title', { text: s.label })));
  }
  chart.append(svg('text', { x: 2, y: 9, class: 'chart-max', text: `max ${formatNumber(max)}` }));
  return chart;
}

export const FCM_CLASSES = [
  { key: 'sent', label: 'sent' },
  { key: 'retried', label: 'retried' },
  { key: 'removed', label: 'token removed' },
  { key: 'failed', label: 'failed' },
];

/** Stacked bars, one per minute, oldest left: each class its colour, each bar's numbers in its tooltip. */
export function fcmBars(minutes) {
  const width = 600;
  const height = 120;
  const top = 14;
  const bottom = 16;
  const n = Math.max(1, minutes.length);
  const slot = width / n;
  const max = Math.max(1, ...minutes.map((m) => FCM_CLASSES.reduce((sum, c) => sum + (m[c.key] || 0), 0)));
  const scale = (v) => (v / max) * (height - top - bottom);
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart fcm-chart', role: 'img', 'aria-label': 'FCM outcomes per minute' });
  chart.append(svg('line', { x1: 0, x2: width, y1: height - bottom, y2: height - bottom, class: 'axis' }));
  minutes.forEach((m, i) => {
    let base = height - bottom;
    const bar = svg('g', { class: 'bar' });
    const tip = [`${shortTime(m.minute)}`, ...FCM_CLASSES.map((c) => `${c.label} ${m[c.key] || 0}`)].join(' · ');
    bar.append(svg('title', { text: tip }));
    // An invisible full-height target, so an empty minute still shows its tooltip.
    bar.append(svg('rect', { x: (i * slot).toFixed(1), y: top, width: slot.toFixed(1), height: height - top - bottom, class: 'hit' }));
    for (const c of FCM_CLASSES) {
      const h = scale(m[c.key] || 0);
      if (h <= 0) continue;
      base -= h;
      bar.append(svg('rect', { x: (i * slot + 1).toFixed(1), y: base.toFixed(1), width: Math.max(1, slot - 2).toFixed(1), height: h.toFixed(1), class: `fcm-${c.key}` }));
    }
    chart.append(bar);
  });
  chart.append(svg('text', { x: 2, y: 10, class: 'chart-max', text: `max ${formatNumber(max)}/min` }));
  if (minutes.length) {
    chart.append(svg('text', { x: 2, y: height - 3, class: 'chart-label', text: shortTime(minutes[0].minute) }));
    chart.append(svg('text', { x: width - 2, y: height - 3, class: 'chart-label end', text: shortTime(minutes[minutes.length - 1].minute) }));
  }
  return chart;
}

function shortTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
}

function formatNumber(v) {
  return v >= 100 ? String(Math.round(v)) : String(Math.round(v * 10) / 10);
}
