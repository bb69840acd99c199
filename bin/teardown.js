#!/usr/bin/env node
'use strict';
// The compiled CLI lives in dist/ (built by `npm install` through the prepare script).
try {
  // Workers a big table-output run will want start loading now, while the CLI loads (src/cli/prestart.ts).
  require('../dist/src/cli/prestart.js').prestart(process.argv.slice(2));
  require('../dist/src/cli/main.js').main(process.argv.slice(2));
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && /dist[\\/]src[\\/]cli[\\/](main|prestart)/.test(String(err.message))) {
    process.stderr.write('teardown: not built yet; run `npm install` (or `npm run build`) in the teardown folder first\n');
    process.exit(70);
  }
  throw err;
}
