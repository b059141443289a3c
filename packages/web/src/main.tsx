import { createRoot } from 'react-dom/client';
import { App } from './ui/app.tsx';
import './styles.css';

// No StrictMode: its double-run of effects would replay the one-time authorization code in development.
const root = document.getElementById('root');
if (root) createRoot(root).render(<App />);
