import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Absolute base: `gatehouse up` serves index.html for every deep link (SPA fallback), so asset URLs
// must not be relative to the current path. No source maps in the production bundle: it ships as-is.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, target: 'es2022', chunkSizeWarningLimit: 800 },
});
