/**
 * A drawing that pans and zooms inside its panel. The SVG is sized to its content times the
 * zoom and the panel scrolls, so nothing is ever cut: what does not fit is reached by
 * dragging (or scrolling). The default zoom fits the drawing to the panel but never shrinks
 * its smallest text below MIN_FONT_PX; the toolbar's buttons and Ctrl/⌘ + wheel zoom, "fit"
 * shows the whole drawing whatever the text size.
 */
import { MIN_FONT_PX, el } from './dom.js';

const MIN_ZOOM = 0.2;
const MAX_ZOOM = 3;
const PADDING = 8;

export class ZoomableCanvas {
  private root: SVGSVGElement | null = null;
  private width = 0;
  private height = 0;
  private minFont = MIN_FONT_PX;
  private zoom = 1;
  private readonly label: HTMLElement;
  private drag: { x: number; y: number; left: number; top: number; moved: boolean } | null = null;

  constructor(
    private readonly container: HTMLElement,
    toolbar: HTMLElement,
  ) {
    const button = (text: string, title: string, action: () => void) => {
      const node = el('button', { type: 'button', title, 'data-zoom': text }, text);
      node.addEventListener('click', action);
      toolbar.appendChild(node);
    };
    button('−', 'zoom out', () => this.zoomBy(1 / 1.25));
    button('+', 'zoom in', () => this.zoomBy(1.25));
    button('fit', 'show the whole drawing', () => this.setZoom(this.fitZoom()));
    button('1:1', 'actual size', () => this.setZoom(1));
    this.label = el('span', { class: 'zoom-level' });
    toolbar.appendChild(this.label);
    container.classList.add('zoomable');
    container.addEventListener('wheel', (event) => this.onWheel(event), { passive: false });
    container.addEventListener('pointerdown', (event) => this.onPointerDown(event));
    container.addEventListener('pointermove', (event) => this.onPointerMove(event));
    const end = () => {
      if (this.drag?.moved) container.classList.remove('panning');
      this.drag = null;
    };
    container.addEventListener('pointerup', end);
    container.addEventListener('pointercancel', end);
    // A click that ends a drag is not a selection.
    container.addEventListener(
      'click',
      (event) => {
        if (container.dataset['dragged'] === 'true') {
          event.stopPropagation();
          event.preventDefault();
          delete container.dataset['dragged'];
        }
      },
      true,
    );
  }

  /**
   * Shows a drawing already in the container: its viewBox becomes the box of everything
   * drawn (plus a margin), so labels past the layout's size are not cut.
   */
  show(root: SVGSVGElement, minFontPx: number, keepZoom = false): void {
    this.root = root;
    const box = root.getBBox();
    const x = Math.floor(Math.min(0, box.x) - PADDING);
    const y = Math.floor(Math.min(0, box.y) - PADDING);
    const right = Math.ceil(Math.max(Number(root.getAttribute('width')) || 0, box.x + box.width) + PADDING);
    const bottom = Math.ceil(Math.max(Number(root.getAttribute('height')) || 0, box.y + box.height) + PADDING);
    this.width = right - x;
    this.height = bottom - y;
    root.setAttribute('viewBox', `${x} ${y} ${this.width} ${this.height}`);
    this.minFont = minFontPx;
    this.setZoom(keepZoom ? this.zoom : this.defaultZoom());
  }

  /** The current zoom: CSS pixels per drawing unit. */
  get scale(): number {
    return this.zoom;
  }

  private available(): { width: number; height: number } {
    return { width: Math.max(80, this.container.clientWidth - 4), height: Math.max(80, this.container.clientHeight - 4) };
  }

  private fitZoom(): number {
    if (!this.width || !this.height) return 1;
    const room = this.available();
    return Math.min(1, room.width / this.width, room.height / this.height);
  }

  private defaultZoom(): number {
    return Math.max(this.fitZoom(), MIN_FONT_PX / this.minFont);
  }

  private setZoom(zoom: number, anchor?: { x: number; y: number }): void {
    const next = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom));
    const c = this.container;
    const ax = anchor?.x ?? c.clientWidth / 2;
    const ay = anchor?.y ?? c.clientHeight / 2;
    const ratio = next / this.zoom;
    const left = (c.scrollLeft + ax) * ratio - ax;
    const top = (c.scrollTop + ay) * ratio - ay;
    this.zoom = next;
    if (this.root) {
      this.root.setAttribute('width', String(Math.round(this.width * next)));
      this.root.setAttribute('height', String(Math.round(this.height * next)));
      this.root.setAttribute('data-zoom', next.toFixed(3));
    }
    c.scrollLeft = left;
    c.scrollTop = top;
    this.label.textContent = `${Math.round(next * 100)} %`;
  }

  zoomBy(factor: number, anchor?: { x: number; y: number }): void {
    this.setZoom(this.zoom * factor, anchor);
  }

  /** Scrolls so that this element of the drawing is in view (when it is not). */
  reveal(node: Element): void {
    const box = node.getBoundingClientRect();
    const frame = this.container.getBoundingClientRect();
    if (box.right > frame.right || box.left < frame.left) this.container.scrollLeft += box.left - frame.left - frame.width / 2 + box.width / 2;
    if (box.bottom > frame.bottom || box.top < frame.top) this.container.scrollTop += box.top - frame.top - frame.height / 2 + box.height / 2;
  }

  private onWheel(event: WheelEvent): void {
    if (!this.root || !(event.ctrlKey || event.metaKey)) return; // a plain wheel scrolls
    event.preventDefault();
    const frame = this.container.getBoundingClientRect();
    this.zoomBy(event.deltaY < 0 ? 1.1 : 1 / 1.1, { x: event.clientX - frame.left, y: event.clientY - frame.top });
  }

  private onPointerDown(event: PointerEvent): void {
    delete this.container.dataset['dragged'];
    if (event.button !== 0 || !this.root) return;
    this.drag = { x: event.clientX, y: event.clientY, left: this.container.scrollLeft, top: this.container.scrollTop, moved: false };
  }

  private onPointerMove(event: PointerEvent): void {
    const drag = this.drag;
    if (!drag) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    if (!drag.moved) {
      drag.moved = true;
      this.container.classList.add('panning');
      this.container.dataset['dragged'] = 'true';
    }
    this.container.scrollLeft = drag.left - dx;
    this.container.scrollTop = drag.top - dy;
  }
}
