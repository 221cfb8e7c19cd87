import type { EditorInput, EditorOutput } from "../../terminal/line_editor.ts";

/** A scripted terminal: hands out chunks of input, records output and raw-mode changes. */
export class FakeTerminal implements EditorInput, EditorOutput {
  raw: boolean[] = [];
  written = "";
  #chunks: string[];
  #waiters: (() => void)[] = [];
  constructor(chunks: string[]) {
    this.#chunks = [...chunks];
  }
  setRaw(mode: boolean): void {
    this.raw.push(mode);
  }
  push(chunk: string): void {
    this.#chunks.push(chunk);
    this.#waiters.shift()?.();
  }
  async read(buffer: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    const chunk = this.#chunks.shift() ?? "";
    if (chunk === "<EOF>") return null;
    const bytes = new TextEncoder().encode(chunk);
    buffer.set(bytes);
    return bytes.length;
  }
  writeSync(bytes: Uint8Array): number {
    this.written += new TextDecoder().decode(bytes);
    return bytes.length;
  }
}
