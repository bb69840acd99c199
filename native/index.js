'use strict';
// The compiled binding (node-gyp builds it when teardown is installed; see README.md beside this file).
module.exports = require('./build/Release/teardown_libpcap.node');
