import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { README_MAX, renderReadme } from '../../src/ui/markdown.ts';

const render = (md: string): string => String(renderReadme(md));

// Issue 25: the UI showed an npm readme as raw text. It is hostile input (any publisher, any
// upstream), so what it may produce is as much the test as what it renders.
describe('readme Markdown', () => {
  it('renders what readmes use: headings, paragraphs, code, lists, quotes, tables, links, emphasis', () => {
    const out = render(['# corp tool', '', 'A **fast** tool with `--flag` and *style*.', 'Same paragraph.', '', '```sh', 'npm i <x> && echo "ok"', '```', '', '- one', '- two', '  continued', '', '1. first', '2. second', '', '> quoted', '', '| a | b |', '|---|:-:|', '| 1 | `2` |', '', 'See [docs](https://example.com/docs) or <https://example.com>.', '', '---', '    indented code'].join('\n'));
    assert.equal(
      out,
      '<div class="readme"><h3>corp tool</h3><p>A <strong>fast</strong> tool with <code>--flag</code> and <em>style</em>. Same paragraph.</p>' +
        '<pre><code>npm i &#60;x&#62; &#38;&#38; echo &#34;ok&#34;</code></pre><ul><li>one</li><li>two continued</li></ul><ol><li>first</li><li>second</li></ol>' +
        '<blockquote><p>quoted</p></blockquote><table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td><td><code>2</code></td></tr></tbody></table>' +
        '<p>See <a href="https://example.com/docs" rel="nofollow noopener noreferrer">docs</a> or <a href="https://example.com" rel="nofollow noopener noreferrer">https://example.com</a>.</p><hr><pre><code>indented code</code></pre></div>',
    );
  });

  it('never lets markup through: raw HTML is text, script links are text, images are links, attributes stay quoted', () => {
    const out = render(['<script>alert(1)</script> <img src=x onerror=alert(1)>', '', '[click](javascript:alert(1)) [data](data:text/html,<b>x</b>) ![logo](https://evil.example/x.png "t")', '', '[q](https://x.example/"onmouseover="alert(1))', '', '# <b>head</b>', '', '`<i>code</i>`'].join('\n'));
    // Only escaped text may hold these; no tag, scheme or attribute of them reaches the markup.
    assert.doesNotMatch(out, /<script|<img|<b>|<i>|javascript:|data:text|href="[^"]*onmouseover/i, out);
    assert.match(out, /&#60;script&#62;alert\(1\)&#60;\/script&#62;/);
    assert.match(out, /<a href="https:\/\/evil\.example\/x\.png" rel="nofollow noopener noreferrer">image: logo<\/a>/);
    assert.match(out, /<p>click\) data /, 'a javascript: link is shown as its text');
  });

  it('keeps runs of unclosed marks as text (each looks ahead a bounded span), and says where it cut a huge readme', () => {
    const marks = '[<('.repeat(20_000);
    const out = render(marks);
    assert.equal(out, `<div class="readme"><p>${marks.replace(/[<]/g, '&#60;')}</p></div>`);
    const huge = render('word '.repeat(README_MAX));
    assert.match(huge, /The readme is cut here\./);
  });
});
