// The on-call dashboard's entry: sign-in, then the live snapshots of GET /admin/events drawn into the panels.
import { Actions } from './actions.js';
import { clockTime } from './dom.js';
import { followEvents } from './event-stream.js';
import { renderCluster } from './render-cluster.js';
import { renderDeadLetters, renderFcm, renderHealth, renderJobs, renderQueues } from './render-panels.js';
import { Session } from './session.js';

/** How many snapshots each queue's chart keeps (at one every few seconds: a few minutes). */
const HISTORY = 60;

const $ = (id) => document.getElementById(id);

const session = new Session((why) => showSignIn(why));
const actions = new Actions(session, notify);
const history = new Map();
let stream;

function showSignIn(message) {
  stream?.stop();
  stream = undefined;
  $('board').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in').hidden = false;
  $('sign-in-error').textContent = message ?? '';
  setConnection('signed out');
}

function showBoard(user) {
  $('sign-in').hidden = true;
  $('board').hidden = false;
  $('sign-out').hidden = false;
  $('who').textContent = user.firstName || user.email || 'admin';
  stream = followEvents(session, {
    snapshot: draw,
    unavailable: (e) => setConnection(`snapshot unavailable (${e.code})`),
    connection: (state, detail) => {
      if (state === 'signed-out') return showSignIn(detail);
      if (state !== 'live') setConnection(detail ? `${state}: ${detail}` : state);
    },
  });
}

function draw(snapshot) {
  setConnection(`live · ${clockTime(snapshot.at)}`);
  if (snapshot.queues.ok) {
    for (const q of snapshot.queues.value) {
      const h = history.get(q.name) ?? [];
      h.push({ depth: q.ready + q.unacked, publishRate: q.publishRate, deliverRate: q.deliverRate });
      if (h.length > HISTORY) h.shift();
      history.set(q.name, h);
    }
  }
  renderHealth($('health-body'), snapshot.health);
  renderQueues($('queues-body'), snapshot.queues, history, (queue, action) => actions.pauseOrResume(queue, action));
  renderFcm($('fcm-body'), snapshot.fcm);
  renderCluster($('nodes-body'), snapshot.cluster, (node, name) => actions.restart(node, name));
  renderJobs($('jobs-body'), snapshot.jobs);
  renderDeadLetters($('dead-letters-body'), snapshot.deadLetters, (selection, label) => actions.replay(selection, label));
}

function setConnection(text) {
  $('connection').textContent = text;
}

function notify(text, ok) {
  const note = $('notice');
  note.textContent = text;
  note.className = ok ? 'notice good' : 'notice bad';
}

$('sign-in-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const button = form.querySelector('button');
  button.disabled = true;
  $('sign-in-error').textContent = '';
  try {
    const user = await session.signIn(form.elements.login.value.trim(), form.elements.password.value);
    form.reset();
    showBoard(user);
  } catch (e) {
    $('sign-in-error').textContent = e instanceof Error ? e.message : String(e);
  } finally {
    button.disabled = false;
  }
});

$('sign-out').addEventListener('click', async () => {
  await session.signOut();
  showSignIn('Signed out.');
});

$('reason-cancel').addEventListener('click', () => $('reason-dialog').close());

showSignIn();
