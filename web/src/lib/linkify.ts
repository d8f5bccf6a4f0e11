/** A piece of a message text: plain text, or a link to an http(s) URL. */
export type Segment = { text: string; href?: undefined } | { text: string; href: string };

// a candidate starts at http:// or https:// (nothing else is ever linked: no javascript:, data:, ...)
const CANDIDATE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING = /[.,;:!?'"*_~]+$/;

/** the URL without punctuation that ends the sentence, and without a ")" it did not open */
function trim(url: string): string {
  let u = url.replace(TRAILING, '');
  while (u.endsWith(')') && (u.match(/\(/g) ?? []).length < (u.match(/\)/g) ?? []).length) {
    u = u.slice(0, -1).replace(TRAILING, '');
  }
  return u;
}

/** the normalized href when `s` is a valid http(s) URL with a host, else null */
export function safeHref(s: string): string | null {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return null;
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.hostname === '') return null;
  return u.href;
}

/** Splits `text` into text and http(s) link segments. Rendered as React text and <a> nodes only. */
export function linkify(text: string): Segment[] {
  const out: Segment[] = [];
  let last = 0;
  for (const m of text.matchAll(CANDIDATE)) {
    const start = m.index ?? 0;
    const raw = trim(m[0]);
    const href = safeHref(raw);
    if (!href) continue;
    if (start > last) out.push({ text: text.slice(last, start) });
    out.push({ text: raw, href });
    last = start + raw.length;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}
