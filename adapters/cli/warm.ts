import type { FormatRepo } from '../../src/formats/format.ts';
import { Progress, mb } from './progress.ts';
import { isRegistryError } from '../../src/errors.ts';

/**
 * `binaryrepo warm`: each reference pulled into the remote repo's cache with a bar per blob and an
 * overall bar on a terminal (plain lines otherwise). Interrupted, it resumes by running it again:
 * what was cached is a hit and is not fetched twice. Exit status: 1 when any reference failed, 2
 * for one that is not a reference at all.
 */
export async function warm(repo: FormatRepo, refs: string[], platform: string | undefined): Promise<number> {
  let failed = 0;
  for (const ref of refs) {
    const progress = new Progress(ref, { items: 0, bytes: 0 });
    const items = new Map<string, { label: string; size: number | undefined; done: () => number }>();
    try {
      const r = await repo.warm?.(ref, {
        ...(platform ? { platform } : {}),
        events: {
          planned: (n, bytes) => progress.grow(n, bytes),
          started: (id, size, done) => {
            const item = { label: id.slice(0, 19), size, done };
            items.set(id, item);
            progress.start(item);
          },
          ended: (id, note) => {
            const item = items.get(id);
            if (item) progress.end(item, note);
          },
        },
      });
      const fetched = Number(r?.['bytesFetched'] ?? 0);
      progress.stop(`done: ${String(r?.['blobs'] ?? 0)} blobs, ${String(r?.['fetched'] ?? 0)} fetched now (${mb(fetched)})`);
      console.log(JSON.stringify({ image: ref, ok: true, ...r }));
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      progress.stop(`FAILED: ${message}`);
      // A reference that cannot be one is a usage error, like a mistyped flag.
      if (isRegistryError(e) && e.kind === 'invalid') return 2;
      failed++;
      console.log(JSON.stringify({ image: ref, ok: false, error: message }));
    }
  }
  return failed > 0 ? 1 : 0;
}
