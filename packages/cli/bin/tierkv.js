#!/usr/bin/env node
// The command's entry point, committed so npm links `tierkv` at install time even in a checkout
// where dist/ is not built yet (npm skips a bin whose file does not exist).
import('../dist/bin.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/bin.js')) {
    console.error('tierkv: not built yet; run `npm start` or `npm run build` in the repository first');
    process.exit(1);
  }
  throw err;
});
