import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Checks every file a client wrote under its digest (skopeo's dir: and oci: layouts name blobs by
 * their sha256): each must hash to its name. Returns how many there were.
 */
export async function checkDirDigests(dir: string): Promise<number> {
  let n = 0;
  for (const f of await readdir(dir)) {
    if (!/^[a-f0-9]{64}$/.test(f)) continue;
    const got = createHash('sha256').update(await readFile(join(dir, f))).digest('hex');
    assert.equal(got, f, `blob ${f} has the right digest`);
    n++;
  }
  return n;
}

/** Every .ts file under a folder, depth-first. */
export async function tsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...(await tsFiles(join(dir, e.name))));
    else if (e.name.endsWith('.ts')) out.push(join(dir, e.name));
  }
  return out;
}
