// What the on-call engineer does from the page — restart a supervisor, pause or resume a queue, replay dead letters
// — each after asking why (the reason goes to the operations audit), each an admin-only call with the bearer token.

export class Actions {
  #session;
  #notify;

  /** `notify(text, ok)` reports an outcome on the page. */
  constructor(session, notify) {
    this.#session = session;
    this.#notify = notify;
  }

  async restart(node, supervisor) {
    const reason = await askReason(`Restart ${supervisor} on ${node}`);
    if (!reason) return;
    const path = `/admin/supervisors/${encodeURIComponent(supervisor)}/restart`;
    // 202 with each node's answer (RestartOutcome): ok, failed (with its code) or timeout.
    await this.#post(path, { reason, node }, (a) => `Restart of ${supervisor}: ${(a.results ?? []).map((r) => `${r.node} ${r.outcome}${r.error ? ` (${r.error.code})` : ''}`).join(', ') || 'asked'}.`);
  }

  async pauseOrResume(queue, action) {
    const reason = await askReason(`${action === 'pause' ? 'Pause' : 'Resume'} ${queue}`);
    if (!reason) return;
    await this.#post(`/admin/queues/${encodeURIComponent(queue)}/${action}`, { reason }, `${queue} ${action === 'pause' ? 'paused' : 'resumed'}.`);
  }

  async replay(selection, label) {
    const reason = await askReason(`Replay ${label}`);
    if (!reason) return;
    await this.#post('/admin/dead-letters/replay', { ...selection, reason }, (a) => `Replayed ${a.replayed ?? 0} of ${label} (${a.skipped ?? 0} skipped).`);
  }

  /** `done` is the text to report on success, or makes it from the answer. */
  async #post(path, body, done) {
    try {
      const res = await this.#session.fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const answer = await res.json().catch(() => ({}));
      // A restart is accepted (202) whatever each node answered: it went well only where every node said ok.
      const everyNodeOk = !Array.isArray(answer.results) || answer.results.every((r) => r.outcome === 'ok');
      if (res.ok) this.#notify(typeof done === 'function' ? done(answer) : done, everyNodeOk);
      else this.#notify(`${answer.code ?? res.status}: ${answer.detail ?? 'refused'}`, false);
    } catch (e) {
      this.#notify(e instanceof Error ? e.message : String(e), false);
    }
  }
}

/** Asks for a reason in the page's dialog; resolves with it, or null when cancelled. */
function askReason(title) {
  const dialog = document.getElementById('reason-dialog');
  const form = dialog.querySelector('form');
  const input = dialog.querySelector('input[name="reason"]');
  dialog.querySelector('.dialog-title').textContent = title;
  input.value = '';
  dialog.showModal();
  input.focus();
  return new Promise((resolve) => {
    const done = (value) => {
      form.removeEventListener('submit', submit);
      dialog.removeEventListener('close', cancel);
      if (dialog.open) dialog.close();
      resolve(value);
    };
    const submit = (event) => {
      event.preventDefault();
      const reason = input.value.trim();
      if (reason) done(reason);
    };
    const cancel = () => done(null);
    form.addEventListener('submit', submit);
    dialog.addEventListener('close', cancel);
  });
}
