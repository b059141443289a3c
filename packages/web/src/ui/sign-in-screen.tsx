import { loadDraft } from '../conversation-store.ts';

export function SignInScreen({ notice, onSignIn }: { readonly notice: string | undefined; readonly onSignIn: () => void }) {
  const draft = loadDraft();
  return (
    <main className="centered">
      <section className="sign-in" aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Gatehouse</h1>
        <p>Chat with the operations agent. It acts in your AWS accounts with your own identity, checked at every hop.</p>
        {notice ? (
          <p className="notice notice-warn" role="alert">
            {notice}
          </p>
        ) : null}
        {draft ? <p className="hint">Your unsent message is kept and will be back after you sign in.</p> : null}
        <button type="button" className="primary" onClick={onSignIn} autoFocus>
          Sign in
        </button>
      </section>
    </main>
  );
}
