import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `vite build` puts the app; `gatehouse up` serves this folder at `/`. */
export const webDistDirectory = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
