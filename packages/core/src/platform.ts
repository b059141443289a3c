import type { Clock } from './clock.ts';
import type { GatehouseConfig } from './config/config.ts';
import type { Logger } from './logger.ts';
import type { SharedStore } from './shared-store.ts';

/** What every component factory receives from `gatehouse up` (or a test). */
export interface Platform {
  readonly config: Readonly<GatehouseConfig>;
  /** Absolute path of the data directory (SQLite files, keys, admin-credentials). */
  readonly dataDir: string;
  /** Public base URL without a trailing slash, e.g. `http://localhost:8080`. Issuers and `/config.json` derive from it. */
  readonly baseUrl: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly store: SharedStore;
}
