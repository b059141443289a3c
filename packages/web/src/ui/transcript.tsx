import { useEffect, useRef } from 'react';
import Markdown, { type Components } from 'react-markdown';
import { toMarkdown } from '../to-markdown.ts';
import { displaySummary, splitToolName, toolAccount, type Entry, type ErrorNote, type ToolActivity } from '../chat-state.ts';
import { consentOf, type ConsentLink } from '../vault-consent.ts';

// react-markdown renders no raw HTML and drops unsafe URL schemes by default; links open outside the app
// without handing it an opener or referrer.
const markdownComponents: Components = {
  a: ({ href, children }) => (
    <a href={href} target="_blank" rel="noopener noreferrer">
      {children}
    </a>
  ),
};

interface TranscriptProps {
  readonly entries: readonly Entry[];
  readonly busy: boolean;
  readonly onRetry: (prompt: string) => void;
  readonly onSignIn: () => void;
  /** Opens a SaaS consent link; `prompt` is asked again once the user is connected. */
  readonly onConnect: (link: ConsentLink, prompt: string | undefined) => void;
}

export function Transcript({ entries, busy, onRetry, onSignIn, onConnect }: TranscriptProps) {
  const end = useRef<HTMLDivElement>(null);
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: 'end' });
  }, [entries]);
  return (
    <section className="transcript" role="log" aria-live="polite" aria-relevant="additions text" aria-label="Messages">
      {entries.length === 0 ? <p className="empty">Ask a question, or pick an example on the left.</p> : null}
      {entries.map((entry, index) => (
        <article key={entry.id} className={`entry entry-${entry.role}`} aria-label={entry.role === 'user' ? 'You' : 'Agent'} data-done={entry.done}>
          {entry.parts.length === 0 && !entry.done ? <p className="typing">Thinking…</p> : null}
          {entry.parts.map((part, partIndex) => {
            const key = `${entry.id}-${partIndex}`;
            if (part.kind === 'text') {
              return entry.role === 'user' ? (
                <p key={key} className="user-text">
                  {part.text}
                </p>
              ) : (
                <div key={key} className="markdown">
                  <Markdown components={markdownComponents}>{toMarkdown(part.text)}</Markdown>
                </div>
              );
            }
            if (part.kind === 'tool') return <ToolCard key={key} tool={part.tool} onConnect={(link) => onConnect(link, entry.prompt)} />;
            return (
              <ErrorCard
                key={key}
                error={part.error}
                canRetry={!busy && index === entries.length - 1 && entry.prompt !== undefined}
                onRetry={() => entry.prompt !== undefined && onRetry(entry.prompt)}
                onSignIn={onSignIn}
              />
            );
          })}
        </article>
      ))}
      <div ref={end} />
    </section>
  );
}

function ToolCard({ tool, onConnect }: { readonly tool: ToolActivity; readonly onConnect: (link: ConsentLink) => void }) {
  const { target, tool: toolName } = splitToolName(tool.name);
  const consent = tool.status === 'refused' ? consentOf(tool.result) : undefined;
  const account = toolAccount(tool.arguments);
  const summary = displaySummary(tool.summary, tool.result);
  const label = { running: 'running', ok: 'ok', refused: 'refused', unfinished: 'no result' }[tool.status];
  return (
    <div className={`tool tool-${tool.status}`} data-tool={tool.name}>
      <div className="tool-head">
        <span className="tool-icon" aria-hidden="true">
          ⚙
        </span>
        <span className="tool-name">
          {toolName}
          {target ? <span className="tool-target"> via {target}</span> : null}
        </span>
        {account ? <span className="tool-account">account: {account}</span> : null}
        <span className={`tool-status tool-status-${tool.status}`}>{label}</span>
      </div>
      {consent ? (
        <p className="tool-connect">
          <a
            className="button primary"
            href={consent.url}
            target="gatehouse-connect"
            rel="noreferrer"
            onClick={(event) => {
              event.preventDefault();
              onConnect(consent);
            }}
          >
            Connect {consent.provider}
          </a>{' '}
          <span>This tool acts with your own {consent.provider} account; connect it once, then the question is asked again.</span>
        </p>
      ) : summary ? (
        <p className="tool-summary">{summary}</p>
      ) : null}
      <details>
        <summary>Details</summary>
        <h4>Arguments</h4>
        <pre>{JSON.stringify(tool.arguments, null, 2)}</pre>
        {'result' in tool ? (
          <>
            <h4>Result</h4>
            <pre>{typeof tool.result === 'string' ? tool.result : JSON.stringify(tool.result, null, 2)}</pre>
          </>
        ) : null}
      </details>
    </div>
  );
}

function ErrorCard({ error, canRetry, onRetry, onSignIn }: { readonly error: ErrorNote; readonly canRetry: boolean; readonly onRetry: () => void; readonly onSignIn: () => void }) {
  return (
    <div className="notice notice-error" role="alert" data-error={error.code}>
      <p className="error-title">
        <strong>{error.title}</strong>
        {error.errorType ? <span className="error-type"> ({error.errorType})</span> : null}
      </p>
      <p>{error.message}</p>
      {error.fix ? <p className="error-fix">{error.fix}</p> : null}
      {error.action === 'retry' && canRetry ? (
        <button type="button" onClick={onRetry}>
          Retry
        </button>
      ) : null}
      {error.action === 'sign-in' ? (
        <button type="button" className="primary" onClick={onSignIn}>
          Sign in again
        </button>
      ) : null}
    </div>
  );
}
