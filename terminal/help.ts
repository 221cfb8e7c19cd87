/**
 * The `--help` text of `client.ts`, one constant so that a test can check that every flag and
 * subcommand is documented.
 *
 * @module
 */

/** The relay a client connects to when no `--server` is given. */
export const DEFAULT_SERVER = "tcp://127.0.0.1:4875";

/** The room a client joins when no `--room` is given. */
export const DEFAULT_ROOM = "lobby";

/** The cipher suites a user can pick with `--cipher` or `/cipher`. */
export const CIPHER_CHOICES: readonly string[] = [
  "aes-256-gcm",
  "chacha20-poly1305",
  "xchacha20-poly1305",
  "caesar",
];

/** The text `client.ts --help` prints. */
export const HELP_TEXT = `hush: an end-to-end encrypted terminal chat

Usage:
  deno task client [OPTIONS]              chat (asks for a nick when --nick is missing)
  deno task client fingerprint [OPTIONS]  print your own identity fingerprint and exit
  deno run client.ts [OPTIONS]            the same, Deno asks for each permission

Options:
  --nick NICK        your nickname (the relay gives NICK_1 when another identity owns NICK)
  --server URL       relay to connect to: ws://, wss://, tcp:// or tls://HOST:PORT
                     (default: ${DEFAULT_SERVER}, the local relay)
  --home DIR         identity, trust store and session state; one client at a time
                     (default: the home in $XDG_CONFIG_HOME/hush/ or ~/.config/hush/
                     whose identity has or had NICK, else .../hush/NICK)
  --room ROOM        room to join on start (default: ${DEFAULT_ROOM})
  --cipher SUITE     aes-256-gcm (default), chacha20-poly1305, xchacha20-poly1305,
                     or caesar (a teaching toy: INSECURE, every message is flagged)
  --token TOKEN      access token, when the relay requires one
  --ca FILE          trust this PEM certificate for wss:// and tls:// (self-signed relays)
  --refuse-insecure  refuse (do not show) messages sent under an insecure cipher (caesar)
  --room-keys MODE   who gets your room key: all (default; a member you were not shown
                     is announced first), approve (only after /approve NICK), verified
  --create           with fingerprint: make a new identity when the home has none
                     (without it, fingerprint only reads an existing one)
  --json             scripts and bots: read commands from stdin, write one JSON event
                     per line to stdout (see docs/CLIENT.md)
  -h, --help         show this help and exit

In the chat, type /help for the commands: plain text goes to the current room,
/pm NICK TEXT or @NICK TEXT is private, /verify NICK compares safety numbers.

Examples:
  deno task client --nick alice
  deno task client --nick bob --server tcp://127.0.0.1:4875 --cipher chacha20-poly1305
  deno task client fingerprint --nick bob
  printf 'hello\\n' | deno task client --nick bot --json
`;
