import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import './styles.css';

// `?debug` in the URL logs the client's protocol decisions to the console
const debug = new URLSearchParams(window.location.search).has('debug');

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App clientOptions={debug ? { log: (m) => console.debug(`[chat] ${m}`) } : undefined} />
  </StrictMode>,
);
