#!/usr/bin/env node
'use strict';
// The CLI runs from its bundle in dist/bundle/, built by `npm install` through the prepare script (tsc, then
// build/bundle.ts), and loaded with its V8 code cache (src/cli/cached-require.ts).
const path = require('node:path');
const bundle = path.join(__dirname, '../dist/bundle/main.js');
if (!require('node:fs').existsSync(bundle)) {
  process.stderr.write('teardown: not built yet; run `npm install` (or `npm run build`) in the teardown folder first\n');
  process.exit(70);
}
// Workers a big table-output run will want start loading now, while the CLI loads (src/cli/prestart.ts).
require('../dist/bundle/prestart.js').prestart(process.argv.slice(2));
require('../dist/src/cli/cached-require.js').requireCached(bundle).exports.main(process.argv.slice(2));
