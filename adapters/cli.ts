#!/usr/bin/env node
import { createInterface } from 'node:readline';
import { hashPassword } from '../src/auth/password.ts';
import { boot } from '../src/boot.ts';
import { checkStore } from '../src/fsck.ts';
import { collectGarbage, gcOptions } from '../src/gc.ts';
import { applyRetention } from '../src/retention.ts';
import { parseImageRef, prefetch } from '../src/prefetch.ts';
import { DockerRemote } from '../src/formats/docker/remote.ts';
import { fail, loadConfig } from './common.ts';

/**
 * `binaryrepo <command>`: the offline tools (Node). `npm run binaryrepo -- gc --dry-run`.
 *   gc [--dry-run] [--config f]  collect unreferenced blobs; prints what it freed (JSON)
 *   retention [--dry-run]        apply local repos' tag-retention policies now (then gc frees the blobs)
 *   prefetch <repo> <image:tag>… pull images into a remote repo's cache (--platform os/arch)
 *   hash-password                reads a password from stdin, prints the hash for the config's users
 *   fsck [--verify-blobs]        check the store's invariants (exit 1 on any problem)
 *   cache usage [--config f]     bytes held by each remote repo, against its budget
 *   cache evict [--dry-run]      evict down to the budgets now; with --dry-run, list what would go
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
  const report = await collectGarbage(server, Date.now(), gcOptions(server, dryRun));
  console.log(JSON.stringify(report, null, 2));
  console.error(`${dryRun ? 'would free' : 'freed'} ${report.blobsDeleted} blobs, ${report.bytesFreed} bytes; ${report.linksDeleted} links, ${report.uploadsDeleted} abandoned uploads`);
} else if (command === 'retention') {
  const dryRun = rest.includes('--dry-run');
  const { config } = await loadConfig(rest.filter((a) => a !== '--dry-run'), process.env).catch((e: unknown) => fail(e, exit));
  const server = await boot({ config, runtime: { name: 'node', version: process.versions.node }, logSink: (l) => process.stderr.write(`${l}\n`) });
  const results = await applyRetention(server, Date.now(), dryRun);
  console.log(JSON.stringify(results, null, 2));
  const tags = results.reduce((a, r) => a + r.deletedTags.length, 0);
  const manifests = results.reduce((a, r) => a + r.deletedManifests.length, 0);
  console.error(`${dryRun ? 'would delete' : 'deleted'} ${tags} tags and ${manifests} manifests in ${results.length} images${dryRun ? '' : '; run gc to free their blobs'}`);
} else if (command === 'prefetch') {
  const platformAt = rest.indexOf('--platform');
  const platform = platformAt >= 0 ? rest[platformAt + 1] : undefined;
  const args = rest.filter((_, i) => platformAt < 0 || (i !== platformAt && i !== platformAt + 1));
  const configAt = args.indexOf('--config');
  const [repoName, ...refs] = args.filter((_, i) => configAt < 0 || (i !== configAt && i !== configAt + 1));
  const { config } = await loadConfig(args, process.env).catch((e: unknown) => fail(e, exit));
  const server = await boot({ config, runtime: { name: 'node', version: process.versions.node }, logSink: (l) => process.stderr.write(`${l}\n`) });
  const repo = server.repos.get(repoName ?? '')?.docker;
  if (!(repo instanceof DockerRemote) || refs.length === 0) {
    console.error('usage: binaryrepo prefetch <remote repo> <image:tag | image@digest>... [--platform os/arch] [--config file]');
    exit(2);
  } else {
    for (const text of refs) {
      const parsed = parseImageRef(text);
      if (!parsed) fail(new Error(`not an image reference: ${text}`), exit);
      else {
        const r = await prefetch(repo, server.fills, parsed.image, parsed.ref, platform).catch((e: unknown) => fail(e, exit));
        console.log(JSON.stringify({ image: text, ...r }));
      }
    }
  }
} else if (command === 'fsck') {
  const verify = rest.includes('--verify-blobs');
  const { config } = await loadConfig(rest.filter((a) => a !== '--verify-blobs'), process.env).catch((e: unknown) => fail(e, exit));
  const server = await boot({ config, runtime: { name: 'node', version: process.versions.node }, logSink: (l) => process.stderr.write(`${l}\n`) });
  const report = await checkStore(server, verify);
  console.log(JSON.stringify(report, null, 2));
  console.error(`${report.blobs} blobs, ${report.manifests} manifests, ${report.tags} tags: ${report.problems.length} problems`);
  if (report.problems.length > 0) exit(1);
} else if (command === 'cache' && (rest[0] === 'usage' || rest[0] === 'evict')) {
  const dryRun = rest[0] === 'usage' || rest.includes('--dry-run');
  const { config } = await loadConfig(rest.slice(1).filter((a) => a !== '--dry-run'), process.env).catch((e: unknown) => fail(e, exit));
  const server = await boot({ config, runtime: { name: 'node', version: process.versions.node }, logSink: (l) => process.stderr.write(`${l}\n`) });
  const reports = await server.evictor.run(dryRun);
  if (rest[0] === 'usage') {
    for (const r of reports) {
      const repo = r.repos.length === 1 ? r.repos[0] : '(global)';
      const cfg = config.repos.find((x) => x.name === repo);
      const max = repo === '(global)' ? config.cacheBudget.maxBytes : cfg?.type === 'remote' ? cfg.cache.maxBytes : 0;
      console.log(`${repo}\t${r.usageBefore} bytes\t${max > 0 ? `budget ${max} (${((100 * r.usageBefore) / max).toFixed(1)}%)` : 'no budget'}`);
    }
  } else {
    console.log(JSON.stringify(reports, null, 2));
    const freed = reports.reduce((a, r) => a + r.bytesFreed, 0);
    console.error(`${dryRun ? 'would free' : 'freed'} ${freed} bytes: ${reports.reduce((a, r) => a + r.manifests, 0)} manifests, ${reports.reduce((a, r) => a + r.blobsUnlinked, 0)} blob links`);
  }
} else {
  console.error('usage: binaryrepo gc [--dry-run] [--config file] | retention [--dry-run] | prefetch <repo> <image:tag>... | hash-password < password | fsck [--verify-blobs] | cache usage | cache evict [--dry-run]');
  exit(2);
}
