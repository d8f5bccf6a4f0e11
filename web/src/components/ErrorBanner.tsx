import type { ShownError } from '../model';

export function ErrorBanner({ errors, onDismiss }: { errors: ShownError[]; onDismiss: (key: number) => void }) {
  if (errors.length === 0) return null;
  return (
    <div className="errors" data-testid="error-banner" role="alert">
      {errors.map((e) => (
        <div className="error-item" key={e.key} data-testid="error-item" data-code={e.code}>
          <span className="error-text">
            {e.reason} <code>{e.code}</code>
          </span>
          <button type="button" className="icon-button" aria-label="Dismiss error" data-testid="error-dismiss" onClick={() => onDismiss(e.key)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
