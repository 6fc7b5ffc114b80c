// Starts a worker thread on a TypeScript module when the engine runs from source (tests, tsx):
// Node 20 cannot start a worker on a .ts file, so register tsx first, then import the module
// whose URL start-worker.ts passes as the first argument.
import { register } from 'tsx/esm/api';

register();
await import(process.argv[2]);
