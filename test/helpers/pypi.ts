import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { freePort, stopChild, waitForHttp } from './net.ts';
import { runClient } from './npm.ts';
import type { RunResult } from './npm.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
/** pip, uv, twine, poetry and pypiserver, pinned, in a virtualenv made by `make setup-py-tools`. */
export const PY_TOOLS = join(ROOT, '.build', 'py-tools', 'bin');

export async function pyTool(name: 'python' | 'pip' | 'uv' | 'twine' | 'poetry' | 'pypi-server'): Promise<string> {
  const p = join(PY_TOOLS, name);
  await access(p).catch(() => {
    throw new Error(`${p} is missing: run make setup-py-tools`);
  });
  return p;
}

/** A Python client with its own config and caches under `home` (nothing of the machine's pip setup leaks in). */
export async function py(tool: 'python' | 'pip' | 'uv' | 'twine' | 'poetry', args: string[], opts: { cwd: string; home: string; env?: Record<string, string>; timeoutMs?: number }): Promise<RunResult> {
  await mkdir(opts.home, { recursive: true });
  return runClient(await pyTool(tool), args, {
    ...opts,
    env: {
      PIP_CONFIG_FILE: '/dev/null',
      PIP_DISABLE_PIP_VERSION_CHECK: '1',
      PIP_CACHE_DIR: join(opts.home, 'pip-cache'),
      PIP_NO_INPUT: '1',
      UV_CACHE_DIR: join(opts.home, 'uv-cache'),
      UV_NO_CONFIG: '1',
      UV_PYTHON_DOWNLOADS: 'never',
      POETRY_CACHE_DIR: join(opts.home, 'poetry-cache'),
      POETRY_CONFIG_DIR: join(opts.home, 'poetry-config'),
      POETRY_VIRTUALENVS_IN_PROJECT: 'true',
      KEYRING_BACKEND: 'keyring.backends.null.Keyring',
      PYTHON_KEYRING_BACKEND: 'keyring.backends.null.Keyring',
      ...opts.env,
    },
  });
}

export interface DistSpec {
  name: string;
  version: string;
  requires?: string[];
  requiresPython?: string;
  /** Extra bytes in the wheel (a file of this many pseudo-random bytes, stored uncompressed). */
  padding?: number;
  /** The module's source (default: a VERSION constant). */
  code?: string;
}

/**
 * Makes a wheel and an sdist of a tiny pure-Python project with the standard library's zipfile and
 * tarfile (no build backend, so nothing is downloaded): METADATA, WHEEL and a RECORD with hashes,
 * as pip checks them. Returns the two file paths.
 */
export async function makeDists(dir: string, s: DistSpec): Promise<{ wheel: string; sdist: string }> {
  await mkdir(dir, { recursive: true });
  const script = join(dir, 'make_dist.py');
  await writeFile(
    script,
    `
import base64, hashlib, io, json, os, random, sys, tarfile, zipfile
spec = json.loads(sys.argv[1]); out = sys.argv[2]
name, version = spec["name"], spec["version"]
dist = name.replace("-", "_").replace(".", "_")
mod = dist.lower()
meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}", "Summary: made by the binaryrepo tests"]
if spec.get("requiresPython"): meta.append(f"Requires-Python: {spec['requiresPython']}")
for r in spec.get("requires", []): meta.append(f"Requires-Dist: {r}")
metadata = "\\n".join(meta) + "\\n\\nA test project.\\n"
code = spec.get("code") or f"VERSION = {version!r}\\n"
files = {f"{mod}/__init__.py": code.encode(), f"{dist}-{version}.dist-info/METADATA": metadata.encode(),
         f"{dist}-{version}.dist-info/WHEEL": b"Wheel-Version: 1.0\\nGenerator: binaryrepo-tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
if spec.get("padding"):
    rnd = random.Random(7); files[f"{mod}/blob.bin"] = bytes(rnd.getrandbits(8) for _ in range(spec["padding"]))
record = f"{dist}-{version}.dist-info/RECORD"
lines = []
for p, b in files.items():
    h = base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b"=").decode()
    lines.append(f"{p},sha256={h},{len(b)}")
lines.append(f"{record},,")
files[record] = ("\\n".join(lines) + "\\n").encode()
wheel = os.path.join(out, f"{dist}-{version}-py3-none-any.whl")
with zipfile.ZipFile(wheel, "w") as z:
    for p, b in files.items():
        z.writestr(zipfile.ZipInfo(p, (2024, 1, 1, 0, 0, 0)), b, zipfile.ZIP_STORED if p.endswith("blob.bin") else zipfile.ZIP_DEFLATED)
sdist = os.path.join(out, f"{dist}-{version}.tar.gz")
with tarfile.open(sdist, "w:gz") as t:
    for p, b in {f"{dist}-{version}/PKG-INFO": metadata.encode(), f"{dist}-{version}/{mod}/__init__.py": code.encode()}.items():
        ti = tarfile.TarInfo(p); ti.size = len(b); ti.mtime = 1704067200; t.addfile(ti, io.BytesIO(b))
print(json.dumps({"wheel": wheel, "sdist": sdist}))
`,
  );
  const r = await py('python', [script, JSON.stringify(s), dir], { cwd: dir, home: join(dir, '.home') });
  if (r.code !== 0) throw new Error(`make_dist.py: ${r.stderr}`);
  return JSON.parse(r.stdout) as { wheel: string; sdist: string };
}

export interface Pypiserver {
  url: string;
  packages: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * A real pypiserver on loopback over a packages folder: uploads without auth, no fallback to
 * pypi.org (a missing project is a 404 here, never a redirect to the internet).
 */
export async function startPypiserver(dir: string, opts: { port?: number } = {}): Promise<Pypiserver> {
  const packages = join(dir, 'packages');
  await mkdir(packages, { recursive: true });
  const port = opts.port ?? (await freePort());
  const child = spawn(await pyTool('pypi-server'), ['run', '-p', String(port), '-i', '127.0.0.1', '-a', '.', '-P', '.', '--disable-fallback', '--hash-algo', 'sha256', packages], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.resume();
  child.stderr?.resume();
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/simple/`, 30_000, child);
  return { url, packages, child, stop: () => stopChild(child) };
}

/** twine upload of files to a repository URL (credentials optional: pypiserver here takes anyone). */
export function twineUpload(files: string[], repoUrl: string, home: string, auth: { user: string; password: string } = { user: 'x', password: 'x' }, extra: string[] = []): Promise<RunResult> {
  return py('twine', ['upload', '--non-interactive', '--disable-progress-bar', '--repository-url', repoUrl, '-u', auth.user, '-p', auth.password, ...extra, ...files], { cwd: home, home });
}
