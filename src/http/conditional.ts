/**
 * Conditional GET and HEAD (RFC 9110 §13.1): whether the client's copy is current, from the
 * validators the answer would carry. If-None-Match compares weakly (`W/"x"` matches `"x"`; `*`
 * matches any) and, when present, decides alone; otherwise If-Modified-Since holds when the
 * answer's Last-Modified is not later (whole seconds, as HTTP dates are). One function for every
 * format: apt, pip, cargo and browsers revalidate with either header.
 */
export function notModified(req: Request, validators: { etag?: string | undefined; lastModified?: string | undefined }): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const inm = req.headers.get('if-none-match');
  if (inm !== null) {
    if (validators.etag === undefined) return false;
    const mine = opaque(validators.etag);
    return inm.split(',').some((t) => {
      const tag = t.trim();
      return tag === '*' || opaque(tag) === mine;
    });
  }
  const ims = req.headers.get('if-modified-since');
  if (ims === null || validators.lastModified === undefined) return false;
  const since = Date.parse(ims);
  const modified = Date.parse(validators.lastModified);
  if (Number.isNaN(since) || Number.isNaN(modified)) return false;
  return Math.floor(modified / 1000) <= Math.floor(since / 1000);
}

/** An entity tag without its weakness prefix (weak comparison). */
const opaque = (tag: string): string => (tag.startsWith('W/') ? tag.slice(2) : tag);
