// dagre's browser bundle (/vendor/dagre.min.js, a classic script loaded before the page's
// modules) defines the global `dagre`; its types come from the package itself.
import type dagreModule from '@dagrejs/dagre';

declare global {
  const dagre: typeof dagreModule;
}
