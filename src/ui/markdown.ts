import { raw } from 'hono/html';
import type { Html } from './html.ts';

/**
 * A package's readme (npm's `readme`, written by its author or an upstream: hostile input) as
 * HTML for the UI: the Markdown people write in readmes (headings, paragraphs, fenced and indented
 * code, lists, quotes, rules, pipe tables; code spans, emphasis, links) and nothing else. Every
 * character of the text is escaped, raw HTML shows as text, links go out only to http(s) and
 * mailto (never `javascript:`), images become links (the UI's CSP loads none from elsewhere). One
 * pass per line and a scanner per inline run: time is linear in the input, which is cut at MAX.
 */
export const README_MAX = 64 * 1024;
const MAX_QUOTE_DEPTH = 4;

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A link target we will write into href, or null (then the link is shown as its text). */
function safeUrl(url: string): string | null {
  const u = url.trim();
  return /^(https?:\/\/|mailto:)[^\s<>"'`]*$/i.test(u) ? u : null;
}

/** Inline constructs close within this many characters or are text: a run of unclosed marks costs linear time. */
const SPAN = 1024;
/** indexOf within the span that starts at `at` (-1 past it). */
function find(text: string, needle: string, from: number, at: number): number {
  const end = text.slice(from, at + SPAN).indexOf(needle);
  return end < 0 ? -1 : from + end;
}

/** Inline Markdown: code spans first (their contents are literal), then links, emphasis, text. */
function inline(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (c === '`') {
      const run = /^`+/.exec(text.slice(i))?.[0] ?? '`';
      const end = find(text, run, i + run.length, i);
      if (end > 0) {
        out += `<code>${esc(text.slice(i + run.length, end).trim())}</code>`;
        i = end + run.length;
        continue;
      }
    }
    if (c === '[' || (c === '!' && text[i + 1] === '[')) {
      const open = c === '!' ? i + 1 : i;
      const close = find(text, '](', open, i);
      const paren = close > 0 ? find(text, ')', close + 2, i) : -1;
      const label = close > 0 ? text.slice(open + 1, close) : '';
      if (close > 0 && paren > 0 && !label.includes('\n') && !label.includes('[')) {
        const target = text.slice(close + 2, paren).split(/\s+/)[0] ?? '';
        const href = safeUrl(target);
        const shown = c === '!' ? `image: ${label || target}` : label;
        out += href ? `<a href="${esc(href)}" rel="nofollow noopener noreferrer">${inline(shown)}</a>` : inline(shown);
        i = paren + 1;
        continue;
      }
    }
    if (c === '<') {
      const end = find(text, '>', i, i);
      const href = end > 0 ? safeUrl(text.slice(i + 1, end)) : null;
      if (href) {
        out += `<a href="${esc(href)}" rel="nofollow noopener noreferrer">${esc(href)}</a>`;
        i = end + 1;
        continue;
      }
    }
    if ((c === '*' || c === '_') && text[i + 1] === c) {
      const end = find(text, c + c, i + 2, i);
      if (end > i + 2) {
        out += `<strong>${inline(text.slice(i + 2, end))}</strong>`;
        i = end + 2;
        continue;
      }
    }
    if ((c === '*' || c === '_') && text[i + 1] !== ' ' && (c === '*' || i === 0 || /\W/.test(text[i - 1] ?? ''))) {
      const end = find(text, c, i + 1, i);
      if (end > i + 1 && text[end - 1] !== ' ') {
        out += `<em>${inline(text.slice(i + 1, end))}</em>`;
        i = end + 1;
        continue;
      }
    }
    out += esc(c);
    i++;
  }
  return out;
}

const cells = (row: string): string[] => row.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((x) => x.trim());

/** Block structure, line by line. */
function blocks(lines: string[], depth: number): string {
  let out = '';
  let para: string[] = [];
  const flush = (): void => {
    if (para.length) out += `<p>${inline(para.join(' '))}</p>`;
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const fence = /^ {0,3}(```+|~~~+)/.exec(line);
    if (fence) {
      flush();
      const mark = fence[1] ?? '```';
      const body: string[] = [];
      for (i++; i < lines.length && !(lines[i] ?? '').trimStart().startsWith(mark); i++) body.push(lines[i] ?? '');
      out += `<pre><code>${esc(body.join('\n'))}</code></pre>`;
      continue;
    }
    if (line.trim() === '') {
      flush();
      continue;
    }
    const heading = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      flush();
      const level = Math.min(6, (heading[1] ?? '#').length + 2);
      out += `<h${level}>${inline(heading[2] ?? '')}</h${level}>`;
      continue;
    }
    if (/^ {0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) {
      flush();
      out += '<hr>';
      continue;
    }
    if (para.length === 0 && /^( {4}|\t)/.test(line)) {
      const body: string[] = [];
      for (; i < lines.length && (/^( {4}|\t)/.test(lines[i] ?? '') || (lines[i] ?? '').trim() === ''); i++) body.push((lines[i] ?? '').replace(/^( {4}|\t)/, ''));
      i--;
      out += `<pre><code>${esc(body.join('\n').replace(/\n+$/, ''))}</code></pre>`;
      continue;
    }
    if (/^ {0,3}>/.test(line)) {
      flush();
      const body: string[] = [];
      for (; i < lines.length && /^ {0,3}>/.test(lines[i] ?? ''); i++) body.push((lines[i] ?? '').replace(/^ {0,3}> ?/, ''));
      i--;
      out += `<blockquote>${depth < MAX_QUOTE_DEPTH ? blocks(body, depth + 1) : `<p>${inline(body.join(' '))}</p>`}</blockquote>`;
      continue;
    }
    const item = /^ {0,3}([-*+]|\d{1,9}[.)])\s+/.exec(line);
    if (item) {
      flush();
      const ordered = /\d/.test(item[1] ?? '');
      const items: string[] = [];
      for (; i < lines.length; i++) {
        const l = lines[i] ?? '';
        const m = /^ {0,3}([-*+]|\d{1,9}[.)])\s+(.*)$/.exec(l);
        if (m && /\d/.test(m[1] ?? '') === ordered) items.push(m[2] ?? '');
        else if (l.trim() !== '' && /^\s+/.test(l) && items.length) items[items.length - 1] += ` ${l.trim()}`;
        else break;
      }
      i--;
      const tag = ordered ? 'ol' : 'ul';
      out += `<${tag}>${items.map((x) => `<li>${inline(x)}</li>`).join('')}</${tag}>`;
      continue;
    }
    if (line.includes('|') && /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/.test(lines[i + 1] ?? '') && para.length === 0) {
      const head = cells(line);
      const rows: string[][] = [];
      for (i += 2; i < lines.length && (lines[i] ?? '').includes('|') && (lines[i] ?? '').trim() !== ''; i++) rows.push(cells(lines[i] ?? ''));
      i--;
      out += `<table><thead><tr>${head.map((h) => `<th>${inline(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${head.map((_, k) => `<td>${inline(r[k] ?? '')}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
      continue;
    }
    para.push(line.trim());
  }
  flush();
  return out;
}

/** The readme as a fragment to place in a page (cut at README_MAX characters, and said so). */
export function renderReadme(markdown: string): Html {
  const cut = markdown.length > README_MAX;
  const text = cut ? markdown.slice(0, README_MAX) : markdown;
  return raw(`<div class="readme">${blocks(text.replace(/\r\n?/g, '\n').split('\n'), 0)}${cut ? '<p><em>The readme is cut here.</em></p>' : ''}</div>`) as Html;
}
