/**
 * `hookchain/postgres`: sessions in PostgreSQL, shared by several processes. Needs the package `pg` (an optional
 * peer) when the store makes its own pool from a connection string; core users never load it.
 */
export { PostgresSessionStore } from '../sessions/postgres.ts';
export type { PostgresPool, PostgresPoolClient, PostgresQueryResult, PostgresSessionStoreOptions } from '../sessions/postgres.ts';
