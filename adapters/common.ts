import { readFile } from 'node:fs/promises';
import { DEFAULT_CONFIG, parseConfigText, validateConfig } from '../src/config/load.ts';
import type { Server } from '../src/boot.ts';
import type { Config } from '../src/config/schema.ts';
import type { Logger } from '../src/log.ts';

/**
 * What every adapter does the same way: find the config (--config <file>, else BINARYREPO_CONFIG,
 * else the embedded default), parse it, and split the listen address. node:fs/promises is shipped
 * by Node, Bun and Deno alike.
 */
export async function loadConfig(argv: string[], env: Record<string, string | undefined>): Promise<{ config: Config; source: string }> {
  const { values } = parseArgs(argv, { value: ['--config'] }, 0);
  const file = values.get('--config') ?? env['BINARYREPO_CONFIG'];
  if (!file) return { config: validateConfig(DEFAULT_CONFIG, env), source: 'embedded default' };
  const text = await readFile(file, 'utf8');
  return { config: await parseConfigText(text, file, env), source: file };
}

/** A command line that cannot be what the user meant: printed with the usage, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface ParsedArgs {
  flags: Set<string>;
  values: Map<string, string>;
  positional: string[];
}

/**
 * Strict flags: `--name value` or `--name=value` for value flags, bare switches, positionals; an
 * unknown flag, a value flag without its value or too many positionals is an error, never ignored
 * (a mistyped `--conf x.yaml` must not start the embedded default with no authentication).
 */
export function parseArgs(argv: string[], spec: { value?: string[]; switch?: string[] }, maxPositional: number): ParsedArgs {
  const out: ParsedArgs = { flags: new Set(), values: new Map(), positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    if (spec.value?.includes(name)) {
      const v = eq > 0 && a.startsWith('--') ? a.slice(eq + 1) : argv[++i];
      if (v === undefined || v === '' || (eq < 0 && v.startsWith('--'))) throw new UsageError(`${name} needs a value`);
      out.values.set(name, v);
    } else if (spec.switch?.includes(a)) {
      out.flags.add(a);
    } else if (a.startsWith('-') && a !== '-') {
      throw new UsageError(`unknown option ${a}`);
    } else {
      out.positional.push(a);
    }
  }
  if (out.positional.length > maxPositional) throw new UsageError(`unexpected argument ${out.positional[maxPositional] ?? ''}`);
  return out;
}

export function splitListen(listen: string): { hostname: string; port: number } {
  const i = listen.lastIndexOf(':');
  let host = listen.slice(0, i);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { hostname: host || '0.0.0.0', port: Number(listen.slice(i + 1)) };
}

export const SERVE_USAGE = 'usage: binaryrepo server [--config <file.yaml|file.json>]  (or BINARYREPO_CONFIG=<file>; no config = the embedded default)';

/** Prints a config or usage error the way a person wants to read it, then exits 2. */
export function fail(e: unknown, exit: (code: number) => never, usage = SERVE_USAGE): never {
  console.error(e instanceof Error ? e.message : String(e));
  if (e instanceof UsageError) console.error(usage);
  return exit(2);
}

/** A listen error (port in use, no permission) as one line, not a stack trace. */
export function listenFailure(e: unknown, listen: string): string {
  const code = (e as { code?: unknown } | null)?.code;
  const text = e instanceof Error ? e.message : String(e);
  if (code === 'EADDRINUSE' || /in use|AddrInUse/i.test(text)) return `cannot listen on ${listen}: the address is already in use (another binaryrepo?); set listen in the config`;
  if (code === 'EACCES' || /permission denied|EACCES/i.test(text)) return `cannot listen on ${listen}: permission denied (ports below 1024 need privileges)`;
  return `cannot listen on ${listen}: ${text}`;
}

/**
 * SIGHUP: read the config file again and apply what can change on a running server (users,
 * passwords, admins, permissions, token lifetime). A config that fails to parse changes nothing.
 */
export async function reloadConfig(server: Server, argv: string[], env: Record<string, string | undefined>): Promise<void> {
  try {
    const { config, source } = await loadConfig(argv, env);
    const notes = server.access.reload(config);
    server.lastReload = { at: Date.now(), source, ok: true, notes };
    server.log.info('config reloaded', { config: source, applied: 'users, permissions, token lifetime', notes });
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    server.lastReload = { at: Date.now(), source: 'config', ok: false, notes: [error] };
    server.log.error('config reload failed; the running config stays', { error });
  }
}

/** @hono/node-server passes `{ incoming, outgoing }` as the env: the socket knows the peer. */
export function nodeClientAddress(_req: Request, env: unknown): string | undefined {
  return (env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress;
}

/** Bun and Deno adapters pass `{ address }` as the env of app.fetch. */
export function envClientAddress(_req: Request, env: unknown): string | undefined {
  return (env as { address?: string } | undefined)?.address;
}

/**
 * What the runtime or a library prints with console.* (a stream error's stack trace from the HTTP
 * server, a deprecation notice) becomes one JSON log line, so stdout stays one JSON object per line
 * for log shippers. The logger's own sink must not use console (it would come back here).
 */
export function routeConsole(log: Logger): void {
  const text = (args: unknown[]): string =>
    args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : typeof a === 'string' ? a : safeJson(a))).join(' ');
  console.error = (...a: unknown[]) => log.error('runtime', { text: text(a) });
  console.warn = (...a: unknown[]) => log.warn('runtime', { text: text(a) });
  console.info = (...a: unknown[]) => log.info('runtime', { text: text(a) });
  console.log = (...a: unknown[]) => log.info('runtime', { text: text(a) });
  console.debug = (...a: unknown[]) => log.debug('runtime', { text: text(a) });
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * The log sink's lines, written once per event-loop turn instead of once per line: with request
 * logging on, a synchronous stdout write per request was a tenth of the server's time on small
 * requests (issue 13). Lines wait at most one timer tick, or go at once past 64 KiB; adapters flush
 * on exit, so a clean stop or a crash that reaches an exit handler loses nothing (a SIGKILL loses
 * at most that tick's lines).
 */
export function lineBatcher(write: (text: string) => void): { sink: (line: string) => void; flush: () => void } {
  let lines: string[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (lines.length === 0) return;
    const text = lines.join('');
    lines = [];
    size = 0;
    write(text);
  };
  const sink = (line: string): void => {
    lines.push(`${line}\n`);
    size += line.length + 1;
    if (size >= 64 * 1024) flush();
    else timer ??= setTimeout(flush, 0);
  };
  return { sink, flush };
}

