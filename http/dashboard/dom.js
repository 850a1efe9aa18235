// Building the page's elements: text always through textContent (agent-written text can never become markup), SVG
// through createElementNS. No string is ever parsed as HTML: the page's CSP (Trusted Types, no policy) would refuse it anyway.
const SVG_NS = 'http://www.w3.org/2000/svg';

/** An HTML element with attributes (`class`, `data-*`, …), optional text and children. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    // Handlers are added with addEventListener, never as attributes (the CSP would refuse them too).
    if (/^on/i.test(name)) throw new Error(`no handler attribute: ${name}`);
    if (name === 'text') node.textContent = String(value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

/** An SVG element with attributes. */
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === 'text') node.textContent = String(value);
    else node.setAttribute(name, String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

/** Replaces an element's children. */
export function fill(parent, ...children) {
  parent.replaceChildren(...children.filter(Boolean));
}

/** A state badge: its text is the state, its class colours it. */
export function badge(state) {
  return el('span', { class: `badge state-${String(state).replace(/[^a-z_-]/g, '')}`, text: state });
}

/** A part that could not be read: its code and message, as text. */
export function partError(error) {
  return el('p', { class: 'part-error', role: 'status', text: `${error.code}: ${error.message}` });
}

/** "3.5/s" with at most one decimal. */
export function rate(value) {
  return `${Math.round((Number(value) || 0) * 10) / 10}/s`;
}

/** "12:34:56" of an ISO time, in the browser's zone. */
export function clockTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleTimeString([], { hour12: false });
}
