import { ChatScreen } from './chat-screen.tsx';
import { SignInScreen } from './sign-in-screen.tsx';
import { useAuthPhase } from './use-auth-phase.ts';

/** One centered status line; `busy` while something is still happening (loading, signing out). */
function StatusScreen({ text, busy }: { readonly text: string; readonly busy: boolean }) {
  return (
    <main className="centered" aria-busy={busy ? 'true' : undefined}>
      <p role="status">{text}</p>
    </main>
  );
}

export function App() {
  const { phase, signOut, signInAgain } = useAuthPhase();
  switch (phase.kind) {
    case 'loading':
      return <StatusScreen busy text="Loading Gatehouse…" />;
    case 'connected':
      return <StatusScreen busy={false} text="Connected. You can close this window and go back to the chat." />;
    case 'signing-out':
      return <StatusScreen busy text="Signing out…" />;
    case 'broken':
      return (
        <main className="centered">
          <div className="notice notice-error" role="alert">
            <h1>Gatehouse is not ready</h1>
            <p>{phase.message}</p>
            <button type="button" onClick={() => window.location.reload()}>
              Reload
            </button>
          </div>
        </main>
      );
    case 'signed-out':
      return <SignInScreen notice={phase.notice} onSignIn={signInAgain} />;
    case 'signed-in':
      return <ChatScreen settings={phase.settings} auth={phase.auth} user={phase.user} onSignIn={signInAgain} onSignOut={signOut} />;
  }
}
