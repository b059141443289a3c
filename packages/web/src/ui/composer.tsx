import { forwardRef, useEffect, useState, type KeyboardEvent } from 'react';
import { loadDraft, saveDraft } from '../conversation-store.ts';

interface ComposerProps {
  readonly busy: boolean;
  readonly sessionId: string;
  readonly onSend: (text: string) => void;
  /** A message handed back after a failed turn (expired sign-in), to put into the box again. */
  readonly restored?: { readonly text: string; readonly at: number } | undefined;
}

/** Enter sends, Shift+Enter adds a line; the draft survives reloads and a sign-in round trip. */
export const Composer = forwardRef<HTMLTextAreaElement, ComposerProps>(function Composer({ busy, sessionId, onSend, restored }, ref) {
  const [draft, setDraft] = useState(loadDraft);
  useEffect(() => {
    if (restored) setDraft(restored.text);
  }, [restored]);
  const update = (text: string) => {
    setDraft(text);
    saveDraft(text);
  };
  const submit = () => {
    if (busy || draft.trim() === '') return;
    onSend(draft);
    update('');
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };
  return (
    <form
      className="composer"
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
    >
      <label htmlFor="prompt">Message the operations agent</label>
      <div className="composer-row">
        <textarea
          id="prompt"
          ref={ref}
          value={draft}
          rows={2}
          placeholder="Ask about your accounts, e.g. “List S3 buckets in the Production account”"
          aria-describedby="prompt-hint"
          onChange={(event) => update(event.target.value)}
          onKeyDown={onKeyDown}
        />
        <button type="submit" className="primary" disabled={busy || draft.trim() === ''}>
          Send
        </button>
      </div>
      <p id="prompt-hint" className="hint">
        Enter to send, Shift+Enter for a new line. Conversation <code title={sessionId}>{sessionId.slice(0, 8)}…</code>
      </p>
    </form>
  );
});
