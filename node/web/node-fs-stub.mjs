// What `import fs from 'node:fs'` gives inside the test page (see index.html's import map):
// bench_core.mjs catches these errors and reports memory figures as null.
const unavailable = () => {
  throw new Error('node:fs is not available in a browser page');
};
export default { readFileSync: unavailable, writeFileSync: unavailable };
