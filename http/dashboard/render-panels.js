// The page's other panels: service health (PostgreSQL, Redis, broker, the SQL sources' circuits), the queues with
// their live charts and pause buttons, FCM outcomes per minute, recent jobs, and dead letters with replay.
import { lineChart, fcmBars, FCM_CLASSES } from './charts.js';
import { badge, clockTime, el, fill, partError, rate } from './dom.js';

/** The outside systems and the sources' circuits: always listed. */
const SERVICE_PARTS = /^(postgres|embedded-postgres|cache|broker|objects|directory|sms|node-registry|source-)/;

/** Readiness: the services (PostgreSQL, Redis, RabbitMQ, storage, directory, the sources' circuits) always; other parts only when not running. */
export function renderHealth(container, health) {
  if (!health.ok) return fill(container, partError(health.error));
  const report = health.value;
  const shown = report.parts.filter((p) => SERVICE_PARTS.test(p.name) || p.state !== 'running');
  const others = report.parts.length - shown.length;
  const summary = el('p', { class: `summary ${report.ready ? 'good' : 'bad'}`, text: `${report.role} node ${report.ready ? 'ready' : 'NOT ready'}` });
  const list = el(
    'ul',
    { class: 'parts' },
    ...shown.map((p) =>
      el(
        'li',
        { class: `part${p.required ? ' required' : ''}`, 'data-part': p.name, 'data-state': p.state },
        el('span', { class: 'part-name', text: p.name.startsWith('source-') ? `${p.name} (circuit)` : p.name }),
        badge(p.state),
        p.detail ? el('span', { class: 'detail', text: p.detail }) : null,
      ),
    ),
  );
  fill(container, summary, list, others > 0 ? el('p', { class: 'others', text: `${others} other parts running` }) : null);
}

/** One card per queue: depth, consumers, rates, a chart of the recent snapshots, and pause/resume. */
export function renderQueues(container, queues, history, onPause) {
  if (!queues.ok) return fill(container, partError(queues.error));
  fill(
    container,
    ...queues.value.map((q) => {
      const h = history.get(q.name) ?? [];
      const state = q.paused ? 'paused' : q.kind === 'priority' && q.consumers === 0 ? 'no consumer' : null;
      const card = el(
        'article',
        { class: 'queue', 'data-queue': q.name, 'data-paused': q.paused === true ? 'true' : 'false' },
        el('header', {}, el('h3', { text: q.name }), state ? badge(state === 'paused' ? 'paused' : 'failed') : null, state ? el('span', { class: 'queue-state', text: state }) : null),
        el(
          'dl',
          { class: 'numbers' },
          el('dt', { text: 'depth' }),
          el('dd', { class: 'depth', text: `${q.ready + q.unacked}` }),
          el('dt', { text: 'unacked' }),
          el('dd', { text: `${q.unacked}` }),
          el('dt', { text: 'consumers' }),
          el('dd', { class: 'consumers', text: `${q.consumers}` }),
          el('dt', { text: 'in / out' }),
          el('dd', { text: `${rate(q.publishRate)} / ${rate(q.deliverRate)}` }),
        ),
        lineChart([{ values: h.map((p) => p.depth), className: 'depth', label: 'depth' }], { label: `${q.name} depth` }),
        lineChart(
          [
            { values: h.map((p) => p.publishRate), className: 'publish', label: 'published per second' },
            { values: h.map((p) => p.deliverRate), className: 'deliver', label: 'delivered per second' },
          ],
          { label: `${q.name} rates` },
        ),
      );
      if (q.kind === 'priority' && q.paused !== null) {
        const action = q.paused ? 'resume' : 'pause';
        const button = el('button', { type: 'button', class: 'small', 'data-action': action, text: q.paused ? 'Resume' : 'Pause' });
        button.addEventListener('click', () => onPause(q.name, action));
        card.append(button);
      }
      return card;
    }),
  );
}

export function renderFcm(container, fcm) {
  if (!fcm.ok) return fill(container, partError(fcm.error));
  const minutes = fcm.value;
  const total = (key) => minutes.reduce((sum, m) => sum + (m[key] || 0), 0);
  const legend = el('ul', { class: 'legend' }, ...FCM_CLASSES.map((c) => el('li', { class: `fcm-${c.key}`, 'data-class': c.key, text: `${c.label} ${total(c.key)}` })));
  fill(container, fcmBars(minutes), legend);
}

/** Recent jobs: the title is the sender's text, set as text. */
export function renderJobs(container, jobs) {
  if (!jobs.ok) return fill(container, partError(jobs.error));
  if (jobs.value.length === 0) return fill(container, el('p', { class: 'empty', text: 'No job yet.' }));
  const rows = jobs.value.map((j) =>
    el(
      'tr',
      { 'data-job': j.id },
      el('td', { class: 'job-title', text: j.title }),
      el('td', { class: 'job-state' }, badge(j.state)),
      el('td', { text: `${j.type} · ${j.queue}` }),
      el('td', { class: 'num', text: `${j.counts.sent}/${j.counts.targets}` }),
      el('td', { class: 'num', text: `${j.counts.failed}` }),
      el('td', { text: clockTime(j.createdAt) }),
      el('td', { class: 'reason', text: j.failureReason ?? '' }),
    ),
  );
  fill(container, table(['Title', 'State', 'Type · queue', 'Sent', 'Failed', 'Created', 'Reason'], rows));
}

/** Dead letters with a replay button each, and one for them all. */
export function renderDeadLetters(container, deadLetters, onReplay) {
  if (!deadLetters.ok) return fill(container, partError(deadLetters.error));
  if (deadLetters.value.length === 0) return fill(container, el('p', { class: 'empty', text: 'No dead letter.' }));
  const all = el('button', { type: 'button', class: 'small', 'data-action': 'replay-all', text: 'Replay all' });
  all.addEventListener('click', () => onReplay({ all: true }, 'every dead letter'));
  const rows = deadLetters.value.map((d) => {
    const replay = d.messageId ? el('button', { type: 'button', class: 'small', 'data-action': 'replay', text: 'Replay' }) : null;
    replay?.addEventListener('click', () => onReplay({ messageIds: [d.messageId] }, `message ${d.messageId}`));
    return el(
      'tr',
      {},
      el('td', { class: 'reason', text: d.reason ?? '' }),
      el('td', { class: 'num', text: d.attempts ?? '' }),
      el('td', { text: d.originQueue ?? '' }),
      el('td', { class: 'mono', text: d.jobId ? `${d.jobId.slice(0, 8)}…:${d.batchNo ?? ''}` : '' }),
      el('td', { class: 'num', text: d.tokens ?? '' }),
      el('td', {}, replay),
    );
  });
  fill(container, all, table(['Reason', 'Attempts', 'Queue', 'Job:batch', 'Tokens', ''], rows));
}

function table(headings, rows) {
  return el('div', { class: 'table-wrap' }, el('table', {}, el('thead', {}, el('tr', {}, ...headings.map((h) => el('th', { text: h })))), el('tbody', {}, ...rows)));
}
