import { transaction, type Database } from '@gatehouse/core';

/** Core's `transaction`, joining the caller's transaction when one is already open (stores compose). */
export function inTransaction<T>(database: Database, work: () => T): T {
  return database.isTransaction ? work() : transaction(database, work);
}
