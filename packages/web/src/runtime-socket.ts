import { ChatError, networkError } from './chat-error.ts';
import { endsTurn, type StreamEvent } from './stream-event.ts';
import { turnCodec, type ChatProtocol, type TurnCodec } from './turn-codec.ts';

export type SocketState = 'closed' | 'connecting' | 'open';

/** Base64url without padding, as the `base64UrlBearerAuthorization.` subprotocol wants (REFERENCE §1.4). */
export function base64UrlToken(token: string): string {
  const bytes = new TextEncoder().encode(token);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

interface PendingTurn {
  readonly codec: TurnCodec;
  readonly onEvent: (event: StreamEvent) => void;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The AgentCore WebSocket path for one conversation. The token is checked only at the handshake,
 * so a socket outlives a token refresh; a closed socket is reopened with the current token on the next turn.
 */
export class RuntimeSocket {
  readonly sessionId: string;
  private readonly runtimeBase: string;
  private readonly onStateChange: (state: SocketState) => void;
  private socket: WebSocket | undefined;
  private opening: Promise<WebSocket> | undefined;
  private pending: PendingTurn | undefined;

  private readonly protocol: ChatProtocol;

  constructor(runtimeBase: string, sessionId: string, onStateChange: (state: SocketState) => void, protocol: ChatProtocol = 'HTTP') {
    this.runtimeBase = runtimeBase;
    this.protocol = protocol;
    this.sessionId = sessionId;
    this.onStateChange = onStateChange;
  }

  async send(prompt: string, accessToken: string, onEvent: (event: StreamEvent) => void): Promise<void> {
    if (this.pending) throw new ChatError('bad_request', 'A reply is still streaming.', { fix: 'Wait for it to finish.' });
    const socket = await this.open(accessToken);
    const codec = turnCodec(this.protocol, this.sessionId, prompt);
    return new Promise<void>((resolve, reject) => {
      this.pending = { codec, onEvent, resolve, reject };
      socket.send(codec.body);
    });
  }

  close(): void {
    this.socket?.close(1000, 'conversation closed');
    this.socket = undefined;
  }

  private open(accessToken: string): Promise<WebSocket> {
    if (this.socket?.readyState === WebSocket.OPEN) return Promise.resolve(this.socket);
    if (this.opening) return this.opening;
    const url = new URL(`${this.runtimeBase}/ws`);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('qualifier', 'DEFAULT');
    url.searchParams.set('X-Amzn-Bedrock-AgentCore-Runtime-Session-Id', this.sessionId);
    this.onStateChange('connecting');
    this.opening = new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(url, [`base64UrlBearerAuthorization.${base64UrlToken(accessToken)}`, 'base64UrlBearerAuthorization']);
      let opened = false;
      socket.onopen = () => {
        opened = true;
        this.socket = socket;
        this.opening = undefined;
        this.onStateChange('open');
        resolve(socket);
      };
      socket.onmessage = (message) => this.receive(message.data);
      socket.onclose = (event) => {
        this.onStateChange('closed');
        if (this.socket === socket) this.socket = undefined;
        if (!opened) {
          this.opening = undefined;
          // Browsers hide the handshake status, so a refused token and an unreachable server look alike.
          reject(networkError('The WebSocket could not be opened (the runtime refused the sign-in or is unreachable).'));
          return;
        }
        const turn = this.pending;
        this.pending = undefined;
        if (turn) turn.reject(event.code === 1008 ? new ChatError('signin_expired', event.reason || 'The runtime closed the connection.', { fix: 'Sign in again; your message is kept.' }) : networkError());
      };
    });
    return this.opening;
  }

  private receive(data: unknown): void {
    if (typeof data !== 'string' || !this.pending) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return;
    }
    const turn = this.pending;
    for (const event of turn.codec.decode(undefined, parsed)) {
      turn.onEvent(event);
      if (endsTurn(event)) {
        this.pending = undefined;
        turn.resolve();
        return;
      }
    }
  }
}
