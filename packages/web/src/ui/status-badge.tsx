import type { TransportMode } from '../conversation-store.ts';
import type { SocketState } from '../runtime-socket.ts';
import type { ConnectionStatus } from './use-chat.ts';

const LABELS: Record<ConnectionStatus, string> = {
  ready: 'Ready',
  connecting: 'Connecting…',
  streaming: 'Receiving…',
  offline: 'Offline',
  interrupted: 'Connection lost',
};

export function StatusBadge({ status, mode, socketState }: { readonly status: ConnectionStatus; readonly mode: TransportMode; readonly socketState: SocketState }) {
  const via = mode === 'sse' ? 'SSE' : socketState === 'open' ? 'WebSocket (open)' : 'WebSocket';
  return (
    <p className={`status status-${status}`} role="status" aria-live="polite" data-status={status}>
      <span className="dot" aria-hidden="true" />
      {LABELS[status]} · {via}
    </p>
  );
}
