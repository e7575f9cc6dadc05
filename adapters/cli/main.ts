#!/usr/bin/env node
import { createInterface } from 'node:readline';
import type { Server } from '../../src/boot.ts';
import { fail, loadConfig, parseArgs } from '../common.ts';
import type { ParsedArgs } from '../common.ts';

/**
 * `binaryrepo <command>`: the server and the offline tools (Node). `binaryrepo <command> --help`
 * shows one command's usage; an unknown or mistyped flag is an error (exit 2). Each command imports
 * what it needs when it runs: a start of the CLI is mostly module loading (gc ran 0.23 s of which
 * 0.05 s was the job itself), and no command needs the archive or Go modules' code but its own.
 */
const exit = (code: number): never => process.exit(code);
const [command, ...rest] = process.argv.slice(2);
const HELP: Record<string, string> = {
  serve: 'binaryrepo serve [--config f]              run the server (the embedded default config without --config)',
  gc: 'binaryrepo gc [--dry-run] [--config f]         collect unreferenced blobs; prints what it freed (JSON)',
  retention: 'binaryrepo retention [--dry-run] [--config f]  apply local repos\' retention policies now (then gc frees the blobs)',
  warm: 'binaryrepo warm <remote repo> <image:tag|image@digest>... [--platform os/arch] [--config f]\n    pull into a remote repo\'s cache, a progress bar per blob on a terminal; run again to resume (cached blobs are skipped); exit 1 if any reference failed',
  export: 'binaryrepo export <repo> <image:tag | file path | module@version | chart@version | name@version | project==version | g:a:v | suite/pkg=ver>... -o bundle.tar [--config f]   an OCI image layout in a tar, for air-gapped sites',
  import: 'binaryrepo import bundle.tar --repo <local repo> [--config f]     every digest verified; importing again changes nothing',
  config: 'binaryrepo config check <file>               validate a config without starting (exit 1 with the problems)',
  'hash-password': 'binaryrepo hash-password < password          print the hash for the config\'s users',
  fsck: 'binaryrepo fsck [--verify-blobs] [--config f]  check the store\'s invariants (exit 1 on any problem)',
  cache: 'binaryrepo cache usage [--config f] | cache evict [--dry-run] [--config f]   bytes per remote repo against its budget; evict down to the budgets',
  token: 'binaryrepo token create <user> <name> [--repos a,b*] [--actions read,write,delete,admin] [--expires-days 90 (0: never)] | token list [user] | token revoke <id>   [--config f]\n    access tokens (create prints the secret, once)',
  go: 'binaryrepo go publish <dir> <module>@<version> --to <url> [--user name]   zip and upload a Go module',
};
HELP['prefetch'] = `${HELP['warm'] ?? ''} (prefetch is the old name of warm)`;
/** The one table of exit codes (docs/operations.md repeats it; test/e2e/cli-exit-codes.test.ts holds every command to it). */
const EXIT_CODES = `exit codes (every command):
  0  done
  1  the command ran and the answer is no: config check or fsck found problems; warm, export, import,
     token or go publish failed for a reference, an entry or the upstream
  2  usage: an unknown command or flag, a missing or malformed argument, or a --config that does not load`;
const USAGE = `usage:\n${Object.entries(HELP)
  .filter(([k]) => k !== 'prefetch')
  .map(([, v]) => `  ${v}`)
  .join('\n')}\n${EXIT_CODES}`;

/** An operation that failed (not the user's invocation): its message, exit 1. */
function failed(e: unknown): never {
  console.error(e instanceof Error ? e.message : String(e));
  return exit(1);
}

if (command && rest.includes('--help') && HELP[command]) {
  console.log(`usage: ${HELP[command]}`);
  exit(0);
}

/** This command's flags, strictly: an unknown or mistyped one is an error with the usage (exit 2). */
function args(spec: { value?: string[]; switch?: string[] }, maxPositional: number): ParsedArgs {
  try {
    return parseArgs(rest, { value: ['--config', ...(spec.value ?? [])], switch: spec.switch ?? [] }, maxPositional);
  } catch (e) {
    return fail(e, exit, `usage: ${HELP[command ?? ''] ?? USAGE}`);
  }
}

/** The config named by --config (else BINARYREPO_CONFIG, else the embedded default), booted offline. */
async function offlineServer(a: ParsedArgs): Promise<Server> {
  const file = a.values.get('--config');
  const { config } = await loadConfig(file ? ['--config', file] : [], process.env).catch((e: unknown) => fail(e, exit));
  const [{ boot }, { nodeFetch }] = await Promise.all([import('../../src/boot.ts'), import('../node-fetch.ts')]);
  // Beside a running server: leave its temp files (writes in flight) alone.
  return boot({ config, runtime: { name: 'node', version: process.versions.node }, logSink: (l) => process.stderr.write(`${l}\n`), fetch: nodeFetch, tempCleanup: 'stale' });
}

async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('password: ');
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    rl.close();
    return line;
  }
  return '';
}

if (command === 'hash-password') {
  args({}, 0);
  const pw = await readPassword();
  if (pw.length < 8) {
    console.error('refusing a password shorter than 8 characters');
    exit(1);
  }
  const { hashPassword } = await import('../../src/auth/password.ts');
  console.log(await hashPassword(pw));
} else if (command === 'gc') {
  const a = args({ switch: ['--dry-run'] }, 0);
  const dryRun = a.flags.has('--dry-run');
  const server = await offlineServer(a);
  const { collectGarbage, gcOptions } = await import('../../src/jobs/gc.ts');
  // Offline gc cannot take the server's lock: the grace period is what protects a push in flight.
  const report = await collectGarbage(server, Date.now(), gcOptions(server, dryRun));
  console.log(JSON.stringify(report, null, 2));
  console.error(`${dryRun ? 'would free' : 'freed'} ${report.blobsDeleted} blobs, ${report.bytesFreed} bytes; ${report.linksDeleted} links, ${report.uploadsDeleted} abandoned uploads`);
} else if (command === 'retention') {
  const a = args({ switch: ['--dry-run'] }, 0);
  const dryRun = a.flags.has('--dry-run');
  const server = await offlineServer(a);
  const { applyRetention } = await import('../../src/jobs/maintenance.ts');
  const results = await applyRetention(server.repos, Date.now(), dryRun);
  console.log(JSON.stringify(results, null, 2));
  const removed = results.reduce((n, r) => n + r.removed, 0);
  console.error(`${dryRun ? 'would delete' : 'deleted'} ${removed} items (tags, manifests, files) in ${results.length} places${dryRun ? '' : '; run gc to free their blobs'}`);
} else if (command === 'warm' || command === 'prefetch') {
  const a = args({ value: ['--platform'] }, Number.MAX_SAFE_INTEGER);
  const [repoName, ...refs] = a.positional;
  const server = await offlineServer(a);
  const repo = server.repos.get(repoName ?? '');
  if (!repo?.warm || refs.length === 0) {
    console.error(`usage: ${HELP['warm']}`);
    exit(2);
  } else {
    const { warm } = await import('./warm.ts');
    exit(await warm(repo, refs, a.values.get('--platform')));
  }
} else if (command === 'export') {
  const a = args({ value: ['-o', '--output'] }, Number.MAX_SAFE_INTEGER);
  const [repoName, ...refs] = a.positional;
  const out = a.values.get('-o') ?? a.values.get('--output');
  if (!repoName || refs.length === 0 || !out) {
    console.error(`usage: ${HELP['export']}`);
    exit(2);
  } else {
    const server = await offlineServer(a);
    const { exportBundle } = await import('./bundle.ts');
    console.log(JSON.stringify(await exportBundle(server, repoName, refs, out).catch(failed)));
  }
} else if (command === 'import') {
  const a = args({ value: ['--repo'] }, 1);
  const [file] = a.positional;
  const repoName = a.values.get('--repo');
  if (!file || !repoName) {
    console.error(`usage: ${HELP['import']}`);
    exit(2);
  } else {
    const server = await offlineServer(a);
    const { importBundle } = await import('./bundle.ts');
    console.log(JSON.stringify(await importBundle(server, file, repoName).catch(failed)));
  }
} else if (command === 'config' && rest[0] === 'check') {
  rest.shift();
  const a = args({}, 1);
  const [file] = a.positional;
  if (!file) {
    console.error(`usage: ${HELP['config']}`);
    exit(2);
  } else {
    // The file is what is being checked: problems are the answer (1), not a usage error.
    const { config } = await loadConfig(['--config', file], process.env).catch(failed);
    console.log(`${file}: valid; ${config.repos.length} repositories (${config.repos.map((r) => `${r.name}: ${r.format} ${r.type}`).join(', ')}), listening on ${config.listen}`);
  }
} else if (command === 'serve') {
  // The Node server itself, as `npm start` runs it; it reads its own flags (--config).
  process.argv.splice(2, 1);
  await import('../node.ts');
} else if (command === 'fsck') {
  const a = args({ switch: ['--verify-blobs'] }, 0);
  const server = await offlineServer(a);
  const { checkStore } = await import('../../src/jobs/fsck.ts');
  const report = await checkStore(server, a.flags.has('--verify-blobs'));
  console.log(JSON.stringify(report, null, 2));
  console.error(`${report.blobs} blobs, ${report.manifests} manifests, ${report.tags} tags: ${report.problems.length} problems`);
  if (report.problems.length > 0) exit(1);
} else if (command === 'cache' && (rest[0] === 'usage' || rest[0] === 'evict')) {
  const sub = rest.shift();
  const a = args({ switch: sub === 'evict' ? ['--dry-run'] : [] }, 0);
  const dryRun = sub === 'usage' || a.flags.has('--dry-run');
  const server = await offlineServer(a);
  const config = server.config;
  const reports = await server.evictor.run(dryRun);
  if (sub === 'usage') {
    for (const r of reports) {
      const repo = r.repos.length === 1 ? r.repos[0] : '(global)';
      const cfg = config.repos.find((x) => x.name === repo);
      const max = repo === '(global)' ? config.cacheBudget.maxBytes : cfg?.type === 'remote' ? cfg.cache.maxBytes : 0;
      console.log(`${repo}\t${r.usageBefore} bytes\t${max > 0 ? `budget ${max} (${((100 * r.usageBefore) / max).toFixed(1)}%)` : 'no budget'}`);
    }
  } else {
    console.log(JSON.stringify(reports, null, 2));
    const freed = reports.reduce((n, r) => n + r.bytesFreed, 0);
    const removed: Record<string, number> = {};
    for (const r of reports) for (const [k, n] of Object.entries(r.removed)) removed[k] = (removed[k] ?? 0) + n;
    const what = Object.entries(removed).map(([k, n]) => `${n} ${k}${n === 1 ? '' : 's'}`).join(', ') || 'nothing';
    console.error(`${dryRun ? 'would free' : 'freed'} ${freed} bytes: ${what}`);
  }
} else if (command === 'token' && (rest[0] === 'create' || rest[0] === 'list' || rest[0] === 'revoke')) {
  const sub = rest.shift() ?? '';
  const a = args({ value: ['--repos', '--actions', '--expires-days'] }, 2);
  const server = await offlineServer(a);
  const { tokenCommand } = await import('./token.ts');
  const code = await tokenCommand(server, sub, a.positional, a.values);
  if (code === 2) console.error(`usage: ${HELP['token']}`);
  exit(code);
} else if (command === 'go' && rest[0] === 'publish') {
  rest.shift();
  const a = args({ value: ['--to', '--user'] }, 2);
  const [dir, ref] = a.positional;
  const at = ref?.lastIndexOf('@') ?? -1;
  const to = a.values.get('--to');
  if (!dir || !ref || at <= 0 || !to) {
    console.error('usage: binaryrepo go publish <dir> <module>@<version> --to <url of a Go repo> [--user <name>]  (password: BINARYREPO_PASSWORD or stdin)');
    exit(2);
  } else {
    const module = ref.slice(0, at);
    const version = ref.slice(at + 1);
    const user = a.values.get('--user');
    const auth = user ? { user, password: process.env['BINARYREPO_PASSWORD'] ?? (await readPassword()) } : undefined;
    const { createModuleZip, publishModule } = await import('./go-publish.ts');
    // A module path or version the go command would refuse is a malformed argument (2); anything else failed (1).
    const zip = await createModuleZip(dir, module, version).catch((e: unknown) => ((e as { kind?: unknown } | null)?.kind === 'invalid' ? fail(e, exit) : failed(e)));
    const res = await publishModule(to, module, version, zip, auth).catch(failed);
    const text = (await res.text()).trim();
    if (!res.ok) {
      console.error(`publish failed: ${res.status} ${text}`);
      exit(1);
    }
    console.log(JSON.stringify({ module, version, bytes: zip.byteLength, status: res.status, answer: text }));
  }
} else if (command === '--help' || command === '-h' || command === 'help') {
  console.log(USAGE);
} else {
  console.error(command === undefined ? 'a command is needed' : `unknown command ${command}`);
  console.error(USAGE);
  exit(2);
}
