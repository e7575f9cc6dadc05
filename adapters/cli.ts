#!/usr/bin/env node
import { createInterface } from 'node:readline';
import { hashPassword } from '../src/auth/password.ts';
import { boot } from '../src/boot.ts';
import { collectGarbage } from '../src/gc.ts';
import { fail, loadConfig } from './common.ts';

/**
 * `binaryrepo <command>`: the offline tools (Node). `npm run binaryrepo -- gc --dry-run`.
 *   gc [--dry-run] [--config f]  collect unreferenced blobs; prints what it freed (JSON)
 *   hash-password                reads a password from stdin, prints the hash for the config's users
 */
const exit = (code: number): never => process.exit(code);
const [command, ...rest] = process.argv.slice(2);

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
  const pw = await readPassword();
  if (pw.length < 8) {
    console.error('refusing a password shorter than 8 characters');
    exit(2);
  }
  console.log(await hashPassword(pw));
} else if (command === 'gc') {
  const dryRun = rest.includes('--dry-run');
  const { config } = await loadConfig(rest.filter((a) => a !== '--dry-run'), process.env).catch((e: unknown) => fail(e, exit));
  const server = await boot({ config, runtime: { name: 'node', version: process.versions.node }, logSink: (l) => process.stderr.write(`${l}\n`) });
  // Offline gc cannot take the server's lock: the grace period is what protects a push in flight.
  const report = await collectGarbage(server, Date.now(), {
    dryRun,
    graceMs: config.gc.graceMinutes * 60_000,
    uploadMaxAgeMs: config.gc.uploadMaxAgeHours * 3_600_000,
  });
  console.log(JSON.stringify(report, null, 2));
  console.error(`${dryRun ? 'would free' : 'freed'} ${report.blobsDeleted} blobs, ${report.bytesFreed} bytes; ${report.linksDeleted} links, ${report.uploadsDeleted} abandoned uploads`);
} else {
  console.error('usage: binaryrepo gc [--dry-run] [--config file] | binaryrepo hash-password < password');
  exit(2);
}
