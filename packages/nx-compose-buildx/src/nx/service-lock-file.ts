/** The committed lock of per-service definition hashes (service-lock.ts), in a module of its own so graph-time code can name it cheaply. */
export const SERVICE_LOCK_FILE = 'nx-compose-buildx.lock.json';
