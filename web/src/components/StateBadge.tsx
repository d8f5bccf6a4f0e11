import type { ConnectionState } from '../client/types';

const LABELS: Record<ConnectionState, string> = {
  offline: 'Offline',
  connecting: 'Connecting…',
  online: 'Online',
  reconnecting: 'Reconnecting…',
};

export function StateBadge({ state }: { state: ConnectionState }) {
  return (
    <span className={`badge badge-${state}`} data-testid="state-badge" data-state={state} role="status" aria-label={`Connection: ${LABELS[state]}`}>
      {LABELS[state]}
    </span>
  );
}
