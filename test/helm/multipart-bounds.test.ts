import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

const B = 'XbOuNdArY';

/** A form body streamed from parts made on demand, counting what the server took. */
function form(make: (i: number) => string | null): { body: ReadableStream<Uint8Array>; sent: () => number } {
  let i = 0;
  let sent = 0;
  const enc = new TextEncoder();
  return {
    body: new ReadableStream<Uint8Array>({
      pull(c) {
        const next = make(i++);
        if (next === null) {
          c.enqueue(enc.encode(`--${B}--\r\n`));
          c.close();
          return;
        }
        const bytes = enc.encode(next);
        sent += bytes.byteLength;
        c.enqueue(bytes);
      },
    }),
    sent: () => sent,
  };
}

// Issue 24, 28: an endless unknown part was drained with no byte limit (1.9 GB in 15 s), and 64 MiB
// of tiny parts cost 16 s of CPU. A ChartMuseum form now has a byte and a part budget.
describe('Helm multipart uploads are bounded', () => {
  let br: TestServer;
  before(async () => {
    br = await startServer({ config: { repos: [{ name: 'charts', format: 'helm', type: 'local', maxChartBytes: 1 << 20 } ] } });
  });
  after(() => br?.close());

  const post = (body: ReadableStream<Uint8Array>) =>
    fetch(`${br.url}/repo/charts/api/charts`, { method: 'POST', body, headers: { 'content-type': `multipart/form-data; boundary=${B}` }, duplex: 'half' } as RequestInit);

  it('an endless unknown part: 413 once the form passes its budget, the rest never read', async () => {
    const chunk = 'z'.repeat(64 << 10);
    const f = form((i) => (i === 0 ? `--${B}\r\ncontent-disposition: form-data; name="junk"\r\n\r\n` : i < 100_000 ? chunk : null));
    const res = await post(f.body);
    const text = await res.text();
    assert.equal(res.status, 413, text);
    assert.match(text, /form is larger than/);
    assert.ok(f.sent() < 64 << 20, `the server took ${f.sent()} bytes`);
  });

  it('many tiny parts: 400 past the part budget', async () => {
    const f = form((i) => (i < 1_000_000 ? `--${B}\r\ncontent-disposition: form-data; name="p${i}"\r\n\r\nx\r\n` : null));
    const res = await post(f.body);
    const text = await res.text();
    assert.equal(res.status, 400, text);
    assert.match(text, /more than 8 parts/);
    // The client keeps filling socket buffers until the answer comes: a few MB, not the 60 MB form.
    assert.ok(f.sent() < 32 << 20, `the server took ${f.sent()} bytes`);
  });
});
