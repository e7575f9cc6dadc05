import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

type Listing = { children: Array<{ name: string; type: string }>; next?: string };

// Issue 24, 27: a generic listing of a 100k-file folder read every entry's document per request
// (1.2–6 s each) and the JSON stopped at 10,000 entries with no sign that more existed. Listings
// are now pages (n, last) with a next link, as the Docker tag list.
describe('generic listings come in pages', () => {
  let br: TestServer;
  before(async () => {
    br = await startServer({
      config: {
        repos: [
          { name: 'a', format: 'generic', type: 'local' },
          { name: 'b', format: 'generic', type: 'local' },
          { name: 'ab', format: 'generic', type: 'virtual', members: ['a', 'b'] },
        ],
      },
    });
    // 50 uploads at a time: one address may have http.maxBodiesPerClient (128) in flight.
    for (let from = 0; from < 2500; from += 50) {
      const puts: Promise<Response>[] = [];
      for (let i = from; i < from + 50; i++) puts.push(fetch(`${br.url}/repo/${i % 5 === 0 ? 'b' : 'a'}/many/f${String(i).padStart(5, '0')}.txt`, { method: 'PUT', body: String(i) }));
      for (const r of await Promise.all(puts)) assert.equal(r.status, 201);
    }
  });
  after(() => br?.close());

  async function walk(repo: string, n?: number): Promise<{ names: string[]; pages: number }> {
    let next: string | undefined = `/repo/${repo}/many/?list${n ? `&n=${n}` : ''}`;
    const names: string[] = [];
    let pages = 0;
    while (next && pages < 100) {
      const res = await fetch(`${br.url}${next}`);
      assert.equal(res.status, 200);
      const body = (await res.json()) as Listing;
      pages++;
      names.push(...body.children.map((c) => c.name));
      assert.equal(res.headers.get('link'), body.next ? `<${body.next}>; rel="next"` : null);
      next = body.next;
    }
    return { names, pages };
  }

  it('a folder of 2,500 files in pages of 1,000 (the default): every name once, in order', async () => {
    const { names, pages } = await walk('a');
    assert.equal(pages, 2);
    assert.equal(names.length, 2000);
    assert.deepEqual(names, [...names].sort());
    assert.equal(new Set(names).size, names.length);
  });

  it('n= sets the page size; a virtual repo pages over its merged members', async () => {
    const { names, pages } = await walk('ab', 300);
    assert.equal(pages, 9);
    assert.equal(names.length, 2500);
    assert.equal(new Set(names).size, 2500);
    assert.deepEqual(names, [...names].sort());
    const bad = await fetch(`${br.url}/repo/a/many/?list&n=0`);
    assert.equal(bad.status, 400);
  });

  it('the HTML index links to the next page', async () => {
    const html = await (await fetch(`${br.url}/repo/a/many/?n=10`)).text();
    assert.match(html, /<a href="\/repo\/a\/many\/\?n=10(&amp;|&#38;)last=f00012\.txt">next page<\/a>/);
  });
});
