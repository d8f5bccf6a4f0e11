import { linkify } from '../lib/linkify';

/** A message text with its http(s) URLs as links; everything else stays a React text node. */
export function MessageText({ text }: { text: string }) {
  return (
    <>
      {linkify(text).map((s, i) =>
        s.href ? (
          <a key={i} href={s.href} target="_blank" rel="noopener noreferrer" data-testid="message-link">
            {s.text}
          </a>
        ) : (
          s.text
        ),
      )}
    </>
  );
}
