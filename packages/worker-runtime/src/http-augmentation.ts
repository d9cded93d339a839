import type { Db } from './db-session.js';

declare module 'http' {
  interface IncomingMessage {
    /** The worker's database connection, serialised for this request (pcluster). */
    db: Db;
  }
}
