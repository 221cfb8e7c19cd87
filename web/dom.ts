/// <reference lib="dom" />
/**
 * The page's only DOM helper: `el()` makes an element with attributes and children. Text goes
 * in as text nodes (never HTML), so no message can inject markup; the Content-Security-Policy
 * forbids inline script and style anyway.
 *
 * @module
 */

/** Attribute values; `on*` keys take listeners, `false`/`undefined` leave the attribute out. */
export type Attrs = Record<string, string | number | boolean | undefined | EventListener>;

/** A child: a node, or text. */
export type Child = Node | string | null | undefined | false;

/**
 * Creates an element.
 *
 * @param tag Tag name.
 * @param attrs Attributes (`class`, `aria-*`, ...) and `on<event>` listeners.
 * @param children Nodes or text.
 * @returns The element.
 */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

/**
 * Creates an SVG element.
 *
 * @param tag Tag name.
 * @param attrs Attributes.
 * @returns The element.
 */
export function svg(tag: string, attrs: Record<string, string | number> = {}): SVGElement {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

/**
 * Appends children.
 *
 * @param node Parent.
 * @param children Nodes or text.
 */
export function append(node: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
}

/**
 * Replaces all children.
 *
 * @param node Parent.
 * @param children New children.
 */
export function replace(node: Node, ...children: Child[]): void {
  while (node.firstChild) node.removeChild(node.firstChild);
  append(node, children);
}

function setAttrs(node: Element, attrs: Attrs): void {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
}
