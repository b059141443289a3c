import type { TransportMode } from '../conversation-store.ts';
import type { SocketState } from '../runtime-socket.ts';
import { StatusBadge } from './status-badge.tsx';
import type { ConnectionStatus } from './use-chat.ts';

interface TopBarProps {
  readonly status: ConnectionStatus;
  readonly mode: TransportMode;
  readonly socketState: SocketState;
  readonly busy: boolean;
  readonly displayName: string;
  readonly onMode: (mode: TransportMode) => void;
  readonly onNewConversation: () => void;
  readonly onDisconnect: () => void;
  readonly onSignOut: () => void;
}

/** The header: brand, connection status, SSE/WebSocket switch, the user and their actions. */
export function TopBar({ status, mode, socketState, busy, displayName, onMode, onNewConversation, onDisconnect, onSignOut }: TopBarProps) {
  return (
    <header className="topbar">
      <h1 className="brand">Gatehouse</h1>
      <StatusBadge status={status} mode={mode} socketState={socketState} />
      <fieldset className="transport" disabled={busy}>
        <legend className="visually-hidden">Connection type</legend>
        <label>
          <input type="radio" name="transport" value="sse" checked={mode === 'sse'} onChange={() => onMode('sse')} /> SSE
        </label>
        <label>
          <input type="radio" name="transport" value="websocket" checked={mode === 'websocket'} onChange={() => onMode('websocket')} /> WebSocket
        </label>
      </fieldset>
      <div className="account-menu">
        <span className="user" title="Signed in as">
          {displayName}
        </span>
        <button type="button" onClick={onNewConversation} disabled={busy}>
          New conversation
        </button>
        <button type="button" onClick={onDisconnect} title="Forget and revoke the SaaS accounts you connected for tools">
          Disconnect apps
        </button>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}
