/** Small DOM and formatting helpers of the inspector page. */

const SVG_NS = 'http://www.w3.org/2000/svg';

export type Attributes = Readonly<Record<string, string | number | null | undefined>>;

/** The element with this id; the page's HTML has every id the script uses. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`inspector page: no element #${id}`);
  return node as T;
}

function setAttributes(node: Element, attrs: Attributes | null | undefined): void {
  if (!attrs) return;
  for (const [key, value] of Object.entries(attrs)) if (value !== undefined && value !== null) node.setAttribute(key, String(value));
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attributes | null, text?: string | number | null): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  setAttributes(node, attrs);
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export function svgEl<K extends keyof SVGElementTagNameMap>(tag: K, attrs?: Attributes | null, text?: string | number | null): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  setAttributes(node, attrs);
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export function clear(node: Node): void {
  while (node.firstChild) node.removeChild(node.firstChild);
}

export function fmt(n: unknown): string {
  return typeof n === 'number' ? n.toLocaleString('en-US') : String(n);
}

export function pct(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)} %` : '0 %';
}

export { loadText, valueText } from './stateText.js';

/** Cuts a label to `max` characters with an ellipsis (the full text goes in a tooltip). */
export function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * Font sizes of the drawings, in CSS pixels at zoom 1. Nothing on the page is drawn
 * smaller than MIN_FONT_PX at the default zoom (test/inspectorBrowser.test.ts checks it).
 */
export const FONT = { label: 13, small: 12, tiny: 11 } as const;
export const MIN_FONT_PX = 11;

let ruler: SVGTextElement | null = null;

/**
 * The width a label takes when drawn with this font, measured by the browser (an
 * invisible SVG text element), so that boxes fit their labels whatever the fonts installed.
 */
export function textWidth(text: string, fontSize: number, bold = false): number {
  if (!ruler) {
    const host = svgEl('svg', { width: 0, height: 0, 'aria-hidden': 'true', class: 'ruler' });
    ruler = svgEl('text', { x: 0, y: 0 });
    host.appendChild(ruler);
    document.body.appendChild(host);
  }
  ruler.setAttribute('font-size', String(fontSize));
  ruler.setAttribute('font-weight', bold ? '600' : '400');
  ruler.textContent = text;
  const measured = ruler.getComputedTextLength();
  // Before fonts are ready (or in a detached layout) the measure can be 0: estimate instead.
  return measured > 0 ? measured : text.length * fontSize * 0.62;
}

export function arrowMarker(id: string): SVGDefsElement {
  const defs = svgEl('defs');
  const marker = svgEl('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
  marker.appendChild(svgEl('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrowhead' }));
  defs.appendChild(marker);
  return defs;
}

export function pathOf(points: readonly { readonly x: number; readonly y: number }[] | undefined): string {
  if (!points || points.length === 0) return '';
  return points.map((p, i) => `${i === 0 ? 'M' : 'L'} ${p.x} ${p.y}`).join(' ');
}
