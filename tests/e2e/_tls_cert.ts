/**
 * A throw-away self-signed certificate for the TLS end-to-end tests (`tls://` and `wss://`).
 *
 * @module
 */

import assert from "node:assert/strict";

/**
 * Makes a self-signed P-256 certificate valid for one day for `127.0.0.1` and `localhost`, with
 * `openssl`, in `dir`.
 *
 * @param dir A temporary directory the caller removes.
 * @returns The PEM paths of the certificate and its key.
 */
export async function selfSignedCert(dir: string): Promise<{ cert: string; key: string }> {
  const cert = `${dir}/cert.pem`;
  const key = `${dir}/key.pem`;
  const out = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      // rustls refuses a CA certificate as the server's own (CaUsedAsEndEntity).
      "-addext",
      "basicConstraints=critical,CA:FALSE",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return { cert, key };
}
