/**
 * Repository content is served from the origin of the UI and the admin API, and anyone who may write
 * a generic repo (or any upstream of a generic remote) chooses its Content-Type. So no content
 * response may ever run script there: CSP `sandbox` gives the document an opaque origin (no cookies,
 * no same-origin fetch of /ui or /api/v1) and `default-src 'none'` loads nothing; `nosniff` keeps
 * browsers from guessing HTML from bytes; types that browsers render actively are downloaded
 * (`Content-Disposition: attachment`). Issue 24, 13: an admin following a link to an uploaded HTML
 * file had its CSRF token read and a repo switched offline.
 */
export const CONTENT_CSP = "sandbox; default-src 'none'";

const ACTIVE = /^\s*(text\/html|application\/xhtml\+xml|image\/svg\+xml|text\/xml|application\/xml|[a-z]+\/[a-z0-9.+-]*\+xml|text\/javascript|application\/(x-)?javascript|application\/ecmascript|text\/ecmascript|multipart\/x-mixed-replace)\b/i;

/** Sets the content-safety headers on a header record a response is about to be built from. */
export function withContentSafety(out: Record<string, string>): Record<string, string> {
  out['content-security-policy'] = CONTENT_CSP;
  out['x-content-type-options'] = 'nosniff';
  const type = out['content-type'];
  if (type !== undefined && ACTIVE.test(type) && out['content-disposition'] === undefined) out['content-disposition'] = 'attachment';
  return out;
}

/** The same on a finished Response (JSON and text answers); a response with immutable headers is left as it is. */
export function safeContent(res: Response): Response {
  try {
    const h = res.headers;
    // Blob answers set these before a native send (withContentSafety): nothing to do twice.
    if (h.has('content-security-policy')) return res;
    h.set('content-security-policy', CONTENT_CSP);
    h.set('x-content-type-options', 'nosniff');
    const type = h.get('content-type');
    if (type !== null && ACTIVE.test(type) && !h.has('content-disposition')) h.set('content-disposition', 'attachment');
  } catch {
    // Headers of a fetch() answer passed through are immutable; none reaches clients unwrapped.
  }
  return res;
}
