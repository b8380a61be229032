/** Both built-in stores pass the one SessionStore contract (spec/sessions/contract.ts). */
import { MemorySessionStore } from 'hookchain';
import { storeContract } from './contract.ts';
import { sqliteStore } from './helpers.ts';

storeContract('MemorySessionStore', () => new MemorySessionStore());
storeContract('SqliteSessionStore (file)', () => sqliteStore());
storeContract('SqliteSessionStore (no run cache)', () => sqliteStore(undefined, { cacheSessions: 0 }));
storeContract('SqliteSessionStore (:memory:)', () => sqliteStore(':memory:'));
