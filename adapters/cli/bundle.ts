import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { Server } from '../../src/boot.ts';
import type { BundleIndexEntry } from '../../src/formats/format.ts';
import { parseDigest } from '../../src/storage/digest.ts';
import { Progress } from './progress.ts';

/** index.json and oci-layout are read whole; nothing larger is one. */
const MAX_INDEX = 16 * 1024 * 1024;
const CHUNK = 1 << 20;
const BLOB_PATH = /^blobs\/(sha256|sha512)\/([0-9a-f]{64,128})$/;

/**
 * `binaryrepo export <repo> <ref>... -o bundle.tar`: an OCI image layout in a tar, streamed blob by
 * blob from the store (never the whole bundle in memory), written to `<out>.partial` and renamed
 * when complete, so a bundle that exists is whole.
 */
export async function exportBundle(s: Server, repoName: string, refs: string[], out: string): Promise<{ blobs: number; bytes: number; items: number }> {
  const repo = s.repos.get(repoName);
  if (!repo?.bundleExport) throw new Error(`repository ${repoName} is unknown or its format cannot be exported yet`);
  const { files, index } = await repo.bundleExport(refs);
  const total = files.reduce((n, f) => n + f.size, 0);
  const progress = new Progress('export', { items: files.length, bytes: total });
  const partial = `${out}.partial`;
  const pack = tar.pack();
  const written = pipeline(pack, createWriteStream(partial));
  try {
    pack.entry({ name: 'oci-layout' }, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    for (const f of files) {
      const d = parseDigest(f.digest);
      const fh = d.ok ? await s.blobs.open(d.digest) : null;
      if (!d.ok || !fh) throw new Error(`blob ${f.digest} vanished from the store during the export`);
      let pos = 0;
      const item = { label: f.digest.slice(0, 19), size: f.size, done: () => pos };
      progress.start(item);
      const entry = pack.entry({ name: `blobs/${d.digest.algorithm}/${d.digest.hex}`, size: f.size });
      const ended = once(entry, 'finish');
      try {
        for (;;) {
          const chunk = await fh.read(pos, CHUNK);
          if (chunk.byteLength === 0) break;
          pos += chunk.byteLength;
          // Backpressure: wait for the tar (and the file behind it) to take more.
          if (!entry.write(chunk)) await once(entry, 'drain');
        }
      } finally {
        await fh.close();
      }
      if (pos !== f.size) throw new Error(`blob ${f.digest} changed size during the export`);
      entry.end(() => undefined);
      await ended;
      progress.end(item, 'written');
    }
    const doc = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: index };
    pack.entry({ name: 'index.json' }, JSON.stringify(doc, null, 2));
    pack.finalize();
    await written;
    await rename(partial, out);
  } catch (e) {
    pack.destroy();
    await written.catch(() => {});
    await rm(partial, { force: true });
    progress.stop('failed');
    throw e;
  }
  progress.stop(`${index.length} references, ${files.length} blobs, ${total} bytes → ${out}`);
  return { blobs: files.length, bytes: total, items: index.length };
}

/**
 * `binaryrepo import bundle.tar --repo r`: every blob is streamed into the store with its digest
 * verified as it is written (a corrupt or truncated bundle stores nothing under a wrong name);
 * blobs the store holds already are skipped (an import can be repeated, or resumed after a
 * failure); then the repo's format links and tags what index.json names.
 */
export async function importBundle(s: Server, file: string, repoName: string): Promise<{ stored: number; skipped: number; items: number }> {
  const repo = s.repos.get(repoName);
  if (!repo?.bundleImport) throw new Error(`repository ${repoName} is unknown or its format cannot import bundles`);
  const extract = tar.extract();
  const reading = pipeline(createReadStream(file), extract);
  let index: BundleIndexEntry[] | undefined;
  let stored = 0;
  let skipped = 0;
  const progress = new Progress('import', { items: 0 });
  for await (const entry of extract) {
    const name = entry.header.name.replace(/^\.\//, '');
    const m = BLOB_PATH.exec(name);
    if (m) {
      const d = parseDigest(`${m[1]}:${m[2]}`);
      if (!d.ok) throw new Error(`bad blob name in the bundle: ${name}`);
      const size = entry.header.size ?? 0;
      let n = 0;
      const item = { label: d.digest.value.slice(0, 19), size, done: () => n };
      progress.grow(1, size);
      progress.start(item);
      if (await s.blobs.stat(d.digest)) {
        entry.resume();
        await once(entry, 'end');
        skipped++;
        progress.end(item, 'already stored');
        continue;
      }
      const counted = (async function* () {
        for await (const chunk of entry as AsyncIterable<Uint8Array>) {
          n += chunk.byteLength;
          yield chunk;
        }
      })();
      await s.blobs.put(counted, { expectedDigest: d.digest, expectedSize: size }).catch((e: unknown) => {
        throw new Error(`blob ${d.digest.value} in the bundle is corrupt: ${e instanceof Error ? e.message : String(e)}`);
      });
      stored++;
      progress.end(item, 'stored, digest verified');
    } else if (name === 'index.json' || name === 'oci-layout') {
      const chunks: Uint8Array[] = [];
      let size = 0;
      for await (const chunk of entry as AsyncIterable<Uint8Array>) {
        size += chunk.byteLength;
        if (size > MAX_INDEX) throw new Error(`${name} in the bundle is larger than ${MAX_INDEX} bytes`);
        chunks.push(chunk);
      }
      const text = new TextDecoder().decode(Buffer.concat(chunks));
      if (name === 'index.json') index = parseIndex(text);
      else if ((JSON.parse(text) as { imageLayoutVersion?: string }).imageLayoutVersion !== '1.0.0') throw new Error('not an OCI image layout 1.0.0');
    } else {
      entry.resume(); // other files (a layout's own extras) are not ours to interpret
      await once(entry, 'end');
    }
  }
  await reading;
  if (!index) throw new Error('the bundle has no index.json');
  const report = await repo.bundleImport(index, (line) => process.stderr.write(`import: ${line} → ${repoName}\n`));
  progress.stop(`${stored} blobs stored, ${skipped} already there, ${report.items} references in ${repoName}`);
  return { stored, skipped, items: report.items };
}

function parseIndex(text: string): BundleIndexEntry[] {
  const doc = JSON.parse(text) as { manifests?: unknown };
  if (!Array.isArray(doc.manifests)) throw new Error('index.json has no manifests list');
  return doc.manifests.filter((m): m is BundleIndexEntry => typeof m === 'object' && m !== null && typeof (m as BundleIndexEntry).digest === 'string');
}
