// Every piece of telemetry text (service, span and handler names, messages, versions) is
// attacker input. The page builds its DOM only through h()/svg() below: text becomes text nodes,
// attributes go through setAttribute from a fixed list, links through safeHref. No module of the
// page assigns HTML strings.

const ATTRIBUTES = new Set(['id', 'class', 'title', 'role', 'type', 'value', 'colspan', 'tabindex', 'datetime', 'for', 'name', 'placeholder', 'selected', 'disabled', 'hidden', 'target']);
const SVG_ATTRIBUTES = new Set(['id', 'class', 'x', 'y', 'x1', 'y1', 'x2', 'y2', 'cx', 'cy', 'r', 'rx', 'ry', 'width', 'height', 'd', 'viewBox', 'text-anchor', 'dominant-baseline', 'marker-end', 'role', 'tabindex', 'transform', 'points', 'refX', 'refY', 'markerWidth', 'markerHeight', 'orient', 'preserveAspectRatio']);

/** An http(s) URL as a string, or null for anything else (javascript:, data:, relative junk). */
export function safeHref(url) {
  if (typeof url !== 'string' || url === '') return null;
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
}

/** Jaeger's trace page for a W3C trace id, or null when no Jaeger is configured or the id is odd. */
export function jaegerTraceHref(jaegerUrl, traceId) {
  const base = safeHref(jaegerUrl);
  if (base === null || typeof traceId !== 'string' || !/^[0-9a-f]{16,32}$/i.test(traceId)) return null;
  return base.replace(/\/+$/, '') + '/trace/' + traceId;
}

function append(el, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child) append(el, c);
    return;
  }
  el.appendChild(typeof child === 'object' && 'nodeType' in child ? child : document.createTextNode(String(child)));
}

function applyAttributes(el, attrs, allowed) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'href') {
      const href = safeHref(value);
      if (href !== null) el.setAttribute('href', href);
    } else if (name === 'dataset') {
      for (const [k, v] of Object.entries(value)) el.dataset[k] = String(v);
    } else if (allowed.has(name) || name.startsWith('aria-')) {
      el.setAttribute(name, value === true ? '' : String(value));
    } else {
      throw new Error('attribute not allowed: ' + name);
    }
  }
  // A link that leaves the page never gets a handle on it.
  if (el.tagName === 'A' && el.getAttribute('target') === '_blank') el.setAttribute('rel', 'noopener noreferrer');
}

/** h('td', { class: 'x' }, 'text', child, [more]) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  applyAttributes(el, attrs, ATTRIBUTES);
  append(el, children);
  return el;
}

export function svg(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  applyAttributes(el, attrs, SVG_ATTRIBUTES);
  append(el, children);
  return el;
}

/** A link when the URL is http(s), otherwise the text alone. */
export function link(url, text, attrs) {
  return safeHref(url) === null ? h('span', attrs, text) : h('a', { ...attrs, href: url, target: '_blank' }, text);
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const $ = (selector) => document.querySelector(selector);
