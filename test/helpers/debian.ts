import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, readdir, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export async function sh(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<{ code: number; out: string }> {
  try {
    const r = await run(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, maxBuffer: 64 << 20 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string; message: string };
    return { code: typeof x.code === 'number' ? x.code : 1, out: `${x.stdout ?? ''}${x.stderr ?? ''}${x.message}` };
  }
}

async function must(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<string> {
  const r = await sh(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.out}`);
  return r.out;
}

export interface DebSpec {
  name: string;
  version: string;
  arch?: string;
  depends?: string;
  /** Bytes of random payload in the package. */
  payload?: number;
  compression?: 'xz' | 'gzip' | 'zstd' | 'none';
  /** Extra control lines, as written. */
  extra?: string;
}

/** A .deb made by dpkg-deb from a tree the test writes; returns its path. */
export async function buildDeb(dir: string, s: DebSpec): Promise<string> {
  const arch = s.arch ?? 'amd64';
  const root = join(dir, `${s.name}_${s.version}_${arch}`);
  await rm(root, { recursive: true, force: true });
  await mkdir(join(root, 'DEBIAN'), { recursive: true });
  await mkdir(join(root, 'usr/share', s.name), { recursive: true });
  await writeFile(join(root, 'usr/share', s.name, 'payload'), randomBytes(s.payload ?? 1000));
  const control = [`Package: ${s.name}`, `Version: ${s.version}`, `Architecture: ${arch}`, 'Maintainer: Test <test@example.invalid>', ...(s.depends ? [`Depends: ${s.depends}`] : []), ...(s.extra ? [s.extra] : []), `Description: test package ${s.name}`, ' A package built by the binaryrepo tests.', ' .', ' Second paragraph.', ''].join('\n');
  await writeFile(join(root, 'DEBIAN/control'), control);
  await chmod(join(root, 'DEBIAN'), 0o755);
  const out = join(dir, `${s.name}_${s.version.replace(/^\d+:/, '')}_${arch}.deb`);
  await must('dpkg-deb', [`-Z${s.compression ?? 'xz'}`, '--root-owner-group', '--build', root, out]);
  await rm(root, { recursive: true, force: true });
  return out;
}

/** A throwaway OpenPGP key for a test archive (gpg's own Ed25519), and its public key exported to a file. */
export async function archiveKey(dir: string): Promise<{ home: string; pub: string; fpr: string }> {
  const home = join(dir, 'gnupg');
  await mkdir(home, { recursive: true, mode: 0o700 });
  await must('gpg', ['--batch', '--homedir', home, '--passphrase', '', '--quick-gen-key', 'Test Archive <archive@example.invalid>', 'ed25519', 'sign', 'never']);
  const listing = await must('gpg', ['--batch', '--homedir', home, '--with-colons', '--list-keys']);
  const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(listing)?.[1] ?? '';
  const pub = join(dir, 'archive-key.gpg');
  await writeFile(pub, (await run('gpg', ['--batch', '--homedir', home, '--export', fpr], { encoding: 'buffer', maxBuffer: 1 << 20 })).stdout);
  return { home, pub, fpr };
}

/**
 * Writes (or rewrites: a new generation) a Debian archive at `root` as Debian's tools make it:
 * the debs in `pool/main/<p>/<name>/`, `Packages` by apt-ftparchive (plus .gz and .xz), a Release
 * by apt-ftparchive with Acquire-By-Hash, InRelease and Release.gpg by gpg. With `byHash`, every
 * index is also under by-hash/SHA256/ and the files of earlier generations stay there (as the
 * archive keeps them). The new `dists/<suite>` replaces the old one in one rename.
 */
let generations = 0;

export async function writeArchive(root: string, suite: string, debs: string[], key: { home: string }, opts: { byHash: boolean; validSeconds?: number; sources?: Array<{ name: string; files: string[] }> }): Promise<void> {
  for (const deb of debs) {
    const name = (await must('dpkg-deb', ['--field', deb, 'Package'])).trim();
    const to = join(root, 'pool/main', name.startsWith('lib') ? name.slice(0, 4) : name.slice(0, 1), name, deb.split('/').pop() ?? '');
    await mkdir(dirname(to), { recursive: true });
    await copyFile(deb, to);
  }
  for (const src of opts.sources ?? []) {
    const to = join(root, 'pool/main', src.name.slice(0, 1), src.name);
    await mkdir(to, { recursive: true });
    for (const f of src.files) await copyFile(f, join(to, f.split('/').pop() ?? ''));
  }
  const next = join(root, 'dists', `.${suite}.next`);
  const dir = join(next, 'main/binary-amd64');
  await rm(next, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const packages = await must('apt-ftparchive', ['packages', 'pool'], { cwd: root });
  await writeFile(join(dir, 'Packages'), packages.replace(/^.*Warning.*\n/gm, ''));
  await must('sh', ['-c', 'gzip -9nk Packages && xz -k Packages'], { cwd: dir });
  if (opts.sources?.length) {
    const sdir = join(next, 'main/source');
    await mkdir(sdir, { recursive: true });
    await writeFile(join(sdir, 'Sources'), (await must('apt-ftparchive', ['sources', 'pool'], { cwd: root })).replace(/^.*Warning.*\n/gm, ''));
    await must('sh', ['-c', 'gzip -9nk Sources && xz -k Sources'], { cwd: sdir });
  }
  const fields = ['Origin=Test', 'Label=Test', `Suite=${suite}`, `Codename=${suite}`, 'Architectures=amd64', 'Components=main', ...(opts.byHash ? ['Acquire-By-Hash=yes'] : []), ...(opts.validSeconds ? [`ValidTime=${opts.validSeconds}`] : [])];
  const release = await must('apt-ftparchive', [...fields.flatMap((f) => ['-o', `APT::FTPArchive::Release::${f}`]), 'release', '.'], { cwd: next });
  await writeFile(join(next, 'Release'), release);
  const gpg = ['--batch', '--yes', '--homedir', key.home, '--digest-algo', 'SHA512'];
  await must('gpg', [...gpg, '--clearsign', '-o', join(next, 'InRelease'), join(next, 'Release')]);
  await must('gpg', [...gpg, '--armor', '--detach-sign', '-o', join(next, 'Release.gpg'), join(next, 'Release')]);
  // nginx's validators are mtime (seconds) and size: a generation written within the second of the
  // last one, of the same size, would look unchanged to a conditional request. A real archive's
  // generations are hours apart; here each is dated a minute after the one before.
  const at = new Date(Date.now() + 60_000 * ++generations);
  for (const f of ['InRelease', 'Release', 'Release.gpg']) await utimes(join(next, f), at, at);
  const cur = join(root, 'dists', suite);
  if (opts.byHash) {
    const hashed = join(dir, 'by-hash/SHA256');
    await mkdir(hashed, { recursive: true });
    for (const f of ['Packages', 'Packages.gz', 'Packages.xz']) await copyFile(join(dir, f), join(hashed, sha256(await readFile(join(dir, f)))));
    const old = join(cur, 'main/binary-amd64/by-hash/SHA256');
    for (const f of await readdir(old).catch(() => [])) await copyFile(join(old, f), join(hashed, f));
  }
  await rm(`${cur}.old`, { recursive: true, force: true });
  await rename(cur, `${cur}.old`).catch(() => {});
  await rename(next, cur);
}

/** A private apt (this machine's apt-get) over one sources line: its own lists, cache and status, nothing of the system's. */
export async function aptRoot(dir: string, sources: string): Promise<{ dir: string; apt: (args: string[], cwd?: string) => Promise<{ code: number; out: string }>; archives: () => Promise<string[]> }> {
  for (const d of ['etc/apt/sources.list.d', 'etc/apt/preferences.d', 'etc/apt/apt.conf.d', 'etc/apt/trusted.gpg.d', 'var/lib/apt/lists/partial', 'var/cache/apt/archives/partial', 'var/lib/dpkg', 'log']) await mkdir(join(dir, d), { recursive: true });
  await writeFile(join(dir, 'var/lib/dpkg/status'), '');
  await writeFile(join(dir, 'etc/apt/sources.list'), `${sources}\n`);
  const conf = join(dir, 'apt.conf');
  await writeFile(
    conf,
    [
      `Dir::Etc "${dir}/etc/apt/";`,
      `Dir::State "${dir}/var/lib/apt/";`,
      `Dir::State::status "${dir}/var/lib/dpkg/status";`,
      `Dir::Cache "${dir}/var/cache/apt/";`,
      `Dir::Log "${dir}/log/";`,
      'APT::Architecture "amd64";',
      'APT::Architectures { "amd64"; };',
      'APT::Sandbox::User "root";',
      'Acquire::Languages "none";',
      'Acquire::Retries "0";',
      'Acquire::http::Proxy "DIRECT";',
      'Debug::NoLocking "true";',
      '',
    ].join('\n'),
  );
  return {
    dir,
    apt: (args, cwd) => sh('apt-get', ['-q', '-y', ...args], { env: { APT_CONFIG: conf }, ...(cwd ? { cwd } : {}) }),
    archives: async () => (await readdir(join(dir, 'var/cache/apt/archives'))).filter((f) => f.endsWith('.deb')).sort(),
  };
}

/** Paths of a tree's files, relative (for counting what an upstream holds). */
export async function filesUnder(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else out.push(relative(root, join(d, e.name)));
    }
  };
  await walk(root);
  return out;
}

/** A native source package made by dpkg-source (its .dsc and .tar.xz); returns their paths. */
export async function buildSource(dir: string, name: string, version: string): Promise<string[]> {
  const tree = join(dir, `${name}-${version}`);
  await mkdir(join(tree, 'debian/source'), { recursive: true });
  await writeFile(join(tree, 'debian/source/format'), '3.0 (native)\n');
  await writeFile(join(tree, 'debian/control'), `Source: ${name}\nMaintainer: Test <test@example.invalid>\n\nPackage: ${name}\nArchitecture: all\nDescription: test source ${name}\n a source package built by the tests\n`);
  await writeFile(join(tree, 'debian/changelog'), `${name} (${version}) stable; urgency=low\n\n  * Built by the tests.\n\n -- Test <test@example.invalid>  Mon, 07 Dec 2026 00:00:00 +0000\n`);
  await writeFile(join(tree, 'debian/rules'), '#!/usr/bin/make -f\n%:\n\tdh $@\n');
  await writeFile(join(tree, 'README'), randomBytes(2000).toString('hex'));
  await must('dpkg-source', ['-b', `${name}-${version}`], { cwd: dir });
  return (await readdir(dir)).filter((f) => f.startsWith(`${name}_${version}`) && !f.endsWith('.deb')).map((f) => join(dir, f));
}
