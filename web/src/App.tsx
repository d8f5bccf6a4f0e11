import { useCallback, useEffect, useRef, useState } from 'react';
import { ChatClient, type ChatClientOptions } from './client';
import type { RelayConfig } from './client/types';
import { ChatView } from './components/ChatView';
import { LoginForm } from './components/LoginForm';
import { ChatModel } from './model';

export interface AppProps {
  /** creates the client (tests inject one with a fake transport) */
  createClient?: () => ChatClient;
  /** loads the relay config (default: GET /config.json) */
  loadConfig?: () => Promise<RelayConfig>;
  clientOptions?: ChatClientOptions;
}

interface Session {
  client: ChatClient;
  model: ChatModel;
}

export function App({ createClient, loadConfig, clientOptions }: AppProps) {
  const [config, setConfig] = useState<RelayConfig | null>(null);
  const [configError, setConfigError] = useState<string | null>(null);
  const [session, setSession] = useState<Session | null>(null);
  const [busy, setBusy] = useState(false);
  const [loginError, setLoginError] = useState<string | null>(null);
  const sessionRef = useRef<Session | null>(null);

  const fetchConfig = useCallback(() => {
    setConfigError(null);
    (loadConfig ?? (() => ChatClient.loadConfig()))()
      .then(setConfig)
      .catch((e: unknown) => setConfigError(`Cannot load the configuration: ${e instanceof Error ? e.message : String(e)}`));
  }, [loadConfig]);

  useEffect(fetchConfig, [fetchConfig]);

  // log out when the page goes away
  useEffect(() => {
    const bye = () => {
      const s = sessionRef.current;
      if (s) void s.client.logout();
    };
    window.addEventListener('pagehide', bye);
    window.addEventListener('beforeunload', bye);
    return () => {
      window.removeEventListener('pagehide', bye);
      window.removeEventListener('beforeunload', bye);
    };
  }, []);

  const endSession = useCallback((s: Session) => {
    s.model.dispose();
    if (sessionRef.current === s) sessionRef.current = null;
    setSession((cur) => (cur === s ? null : cur));
  }, []);

  const onLogin = async (name: string, rooms: string[]) => {
    if (!config) return;
    setBusy(true);
    setLoginError(null);
    const client = createClient ? createClient() : new ChatClient(clientOptions);
    const model = new ChatModel(client);
    const s: Session = { client, model };
    try {
      await client.connect(config);
      await client.login(name, rooms);
      sessionRef.current = s;
      setSession(s);
      // the client went offline by itself (session replaced, resume gave up): back to the login form
      client.on('state', (st) => {
        if (st === 'offline' && sessionRef.current === s) {
          const last = model.getSnapshot().errors.at(-1);
          setLoginError(last ? last.reason : 'Disconnected.');
          endSession(s);
        }
      });
    } catch (e) {
      model.dispose();
      void client.logout();
      setLoginError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const onLogout = () => {
    const s = sessionRef.current;
    if (!s) return;
    endSession(s);
    setLoginError(null);
    void s.client.logout();
  };

  if (session) return <ChatView client={session.client} model={session.model} onLogout={onLogout} />;
  return (
    <div className="center">
      {configError ? (
        <div className="card" role="alert" data-testid="config-error">
          <p>{configError}</p>
          <button type="button" onClick={fetchConfig}>
            Retry
          </button>
        </div>
      ) : config ? (
        <LoginForm defaultRoom={config.defaultRoom} busy={busy} error={loginError} onLogin={(n, r) => void onLogin(n, r)} />
      ) : (
        <p className="muted" data-testid="config-loading">
          Loading…
        </p>
      )}
    </div>
  );
}
