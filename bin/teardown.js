#!/usr/bin/env node
'use strict';
// The compiled CLI lives in dist/ (built by `npm install` through the prepare script).
try {
  require('../dist/src/cli/main.js').main(process.argv.slice(2));
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && /dist[\\/]src[\\/]cli[\\/]main/.test(String(err.message))) {
    process.stderr.write('teardown: not built yet; run `npm install` (or `npm run build`) in the teardown folder first\n');
    process.exit(70);
  }
  throw err;
}
