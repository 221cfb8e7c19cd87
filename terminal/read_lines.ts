/**
 * Line splitting for byte streams: stdin in JSON mode and piped input, and the stdout of child
 * processes in the demo and tests.
 *
 * @module
 */

/**
 * Splits a byte stream into lines (LF or CR LF); a last line without a newline counts too.
 *
 * @param input The byte stream, e.g. `Deno.stdin.readable`.
 * @returns The lines, decoded as UTF-8, without line endings.
 */
export async function* readLines(input: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of input) {
    pending += decoder.decode(chunk, { stream: true });
    let newline = pending.indexOf("\n");
    while (newline !== -1) {
      yield pending.slice(0, newline).replace(/\r$/, "");
      pending = pending.slice(newline + 1);
      newline = pending.indexOf("\n");
    }
  }
  pending += decoder.decode();
  if (pending !== "") yield pending.replace(/\r$/, "");
}
