// The nodes and their supervision trees: each actor's state, restarts, crashes, mailbox and last error, and a restart
// button per supervisor (the root excepted: restarting it is restarting the process).
import { badge, clockTime, el, fill, partError } from './dom.js';

/** Renders `cluster` (a snapshot part) into `container`; `onRestart(node, supervisor)` runs on a restart click. */
export function renderCluster(container, cluster, onRestart) {
  if (!cluster.ok) return fill(container, partError(cluster.error));
  const { nodes, trees } = cluster.value;
  const byNode = new Map(nodes.map((n) => [n.node, n]));
  if (trees.length === 0) return fill(container, el('p', { class: 'empty', text: 'No node has sent its tree yet.' }));
  fill(container, ...trees.map((t) => nodeCard(t, byNode.get(t.node), onRestart)));
}

function nodeCard(nodeTree, node, onRestart) {
  const where = node ? `${node.host} · pid ${node.pid}` : '';
  const age = nodeTree.ageMs > 0 ? `tree ${Math.round(nodeTree.ageMs / 1000)} s old` : 'tree live';
  return el(
    'article',
    { class: 'node', 'data-node': nodeTree.node, 'data-role': nodeTree.role },
    el(
      'header',
      { class: 'node-header' },
      el('h3', { text: nodeTree.node }),
      el('span', { class: 'role', text: nodeTree.role }),
      el('span', { class: 'muted', text: [where, age, node ? `heartbeat ${clockTime(node.heartbeatAt)}` : ''].filter(Boolean).join(' · ') }),
    ),
    el('ul', { class: 'tree' }, treeRow(nodeTree.tree, nodeTree.node, true, onRestart)),
  );
}

function treeRow(tree, node, isRoot, onRestart) {
  const s = tree.stats;
  const supervisor = tree.kind === 'supervisor';
  const facts = el(
    'span',
    { class: 'facts' },
    el('span', { class: 'restarts', title: 'restarts', text: `↻ ${s.restarts}` }),
    el('span', { class: 'crashes', title: 'crashes', text: `✕ ${s.crashes}` }),
    el('span', { class: 'mailbox', title: 'mailbox depth', text: `✉ ${s.mailboxDepth}` }),
  );
  const row = el(
    'div',
    { class: 'tree-line' },
    el('span', { class: 'tree-name', text: tree.name }),
    badge(s.state),
    facts,
    supervisor && !isRoot ? restartButton(node, tree.name, onRestart) : null,
  );
  const notes = [];
  if (s.detail) notes.push(el('div', { class: 'detail', text: s.detail }));
  if (s.lastError) notes.push(el('div', { class: 'last-error', text: `${clockTime(s.lastError.at)} ${s.lastError.code ? `${s.lastError.code}: ` : ''}${s.lastError.message}` }));
  const children = tree.children?.length ? el('ul', {}, ...tree.children.map((c) => treeRow(c, node, false, onRestart))) : null;
  return el(
    'li',
    { class: `tree-row kind-${tree.kind}`, 'data-name': tree.name, 'data-path': tree.path, 'data-state': s.state, 'data-restarts': s.restarts },
    row,
    ...notes,
    children,
  );
}

function restartButton(node, name, onRestart) {
  const button = el('button', { type: 'button', class: 'small danger', 'data-action': 'restart', text: 'Restart', 'aria-label': `Restart ${name} on ${node}` });
  button.addEventListener('click', () => onRestart(node, name));
  return button;
}
