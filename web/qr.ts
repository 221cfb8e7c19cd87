/// <reference lib="dom" />
/**
 * The safety number as a QR code: `qrcode-generator` (npm, pinned) computes the modules, and the
 * page draws them as one SVG path (no canvas, no data URL, no inline style).
 *
 * @module
 */

import qrcode from "qrcode-generator";
import { svg } from "./dom.ts";

/**
 * The modules of a QR code, row by row.
 *
 * @param text What to encode (the 60 digits: numeric mode).
 * @returns A square of booleans (true = dark).
 */
export function qrModules(text: string): boolean[][] {
  const code = qrcode(0, "M");
  code.addData(text, /^[0-9]+$/.test(text) ? "Numeric" : "Byte");
  code.make();
  const size = code.getModuleCount();
  const rows: boolean[][] = [];
  for (let r = 0; r < size; r++) {
    const row: boolean[] = [];
    for (let c = 0; c < size; c++) row.push(code.isDark(r, c));
    rows.push(row);
  }
  return rows;
}

/**
 * Draws a QR code.
 *
 * @param text What to encode.
 * @param label The accessible name.
 * @returns An `<svg role="img">`.
 */
export function qrSvg(text: string, label = "QR code"): SVGElement {
  const rows = qrModules(text);
  const size = rows.length + 8; // 4 modules of quiet zone on each side
  let d = "";
  rows.forEach((row, r) =>
    row.forEach((dark, c) => {
      if (dark) d += `M${c + 4} ${r + 4}h1v1h-1z`;
    })
  );
  const root = svg("svg", {
    viewBox: `0 0 ${size} ${size}`,
    role: "img",
    "aria-label": label,
    class: "qr",
    "shape-rendering": "crispEdges",
  });
  root.appendChild(svg("rect", { width: size, height: size, fill: "#fff" }));
  root.appendChild(svg("path", { d, fill: "#000" }));
  return root;
}
