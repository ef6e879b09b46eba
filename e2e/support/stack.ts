// The real Docker build stack for the e2e suites. The one implementation, shared with
// `npm run demo` and `npm run bench`, is scripts/lib/stack.mjs.
export { BASE_IMAGE, REGISTRY, STACK_SCRIPT, ensureStack, startRegistry, stopRegistry } from '../../scripts/lib/stack.mjs';
