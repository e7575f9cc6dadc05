import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { zipEntries } from '../../adapters/cli/go-publish.ts';
import { escapeCase } from '../../src/formats/go/module.ts';

/** One module version of a test GOPROXY tree: its files, go.mod included. */
export interface ModuleVersion {
  path: string;
  version: string;
  files: Record<string, string>;
}

/** A zip with stored (uncompressed) entries, as the module zip format allows. */
export function zipStored(entries: Array<{ name: string; data: Uint8Array }>): Uint8Array {
  return zipEntries(entries, false);
}

/** Writes a GOPROXY file tree (`<escaped path>/@v/{list,<v>.info,<v>.mod,<v>.zip}`, `@latest`) under root. */
export async function writeProxyTree(root: string, mods: ModuleVersion[]): Promise<void> {
  for (const m of mods) {
    const dir = join(root, escapeCase(m.path), '@v');
    await mkdir(dir, { recursive: true });
    const v = escapeCase(m.version);
    const enc = new TextEncoder();
    await writeFile(join(dir, `${v}.info`), JSON.stringify({ Version: m.version, Time: '2026-01-01T00:00:00Z' }));
    await writeFile(join(dir, `${v}.mod`), m.files['go.mod'] ?? `module ${m.path}\n`);
    await writeFile(join(dir, `${v}.zip`), zipStored(Object.entries(m.files).map(([name, data]) => ({ name: `${m.path}@${m.version}/${name}`, data: enc.encode(data) }))));
    const list = await readFile(join(dir, 'list'), 'utf8').catch(() => '');
    await writeFile(join(dir, 'list'), `${list}${m.version}\n`);
    await writeFile(join(root, escapeCase(m.path), '@latest'), JSON.stringify({ Version: m.version, Time: '2026-01-01T00:00:00Z' }));
  }
}

/**
 * The go command's environment in a test: its own HOME and module cache, the given GOPROXY, no
 * checksum database unless `set` names one, never a toolchain download, no telemetry.
 */
export function goEnv(home: string, goCache: string, set: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    HOME: home,
    GOPATH: join(home, 'gopath'),
    GOMODCACHE: join(home, 'modcache'),
    GOCACHE: goCache,
    GOSUMDB: 'off',
    GOFLAGS: '-mod=mod',
    GOTOOLCHAIN: 'local',
    GOTELEMETRY: 'off',
    GOPRIVATE: '',
    GONOSUMDB: '',
    ...set,
  };
}
