/**
 * Which relay the page talks to (docs/WEB.md).
 *
 * @module
 */

/**
 * The relay URL this page talks to.
 *
 * @param location The page's location.
 * @param meta The `hush-relay` meta tag's content.
 * @returns A `ws://` or `wss://` URL.
 */
export function relayUrlFor(location: URL, meta: string): string {
  const given = location.searchParams.get("relay");
  if (given !== null && /^wss?:\/\//.test(given)) return given;
  if (/^wss?:\/\//.test(meta)) return meta;
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/`;
}
