/** What `import pg from 'pg'` / `import { Pool } from 'pg'` give the app in a worker: the names of pg's own ESM entry. */
import { pgStandIn } from './pg-stand-ins.js';

const pg = pgStandIn as Record<string, any>;
export default pg;
export const Client = pg['Client'];
export const Pool = pg['Pool'];
export const Connection = pg['Connection'];
export const types = pg['types'];
export const Query = pg['Query'];
export const DatabaseError = pg['DatabaseError'];
export const escapeIdentifier = pg['escapeIdentifier'];
export const escapeLiteral = pg['escapeLiteral'];
export const Result = pg['Result'];
export const TypeOverrides = pg['TypeOverrides'];
export const defaults = pg['defaults'];
