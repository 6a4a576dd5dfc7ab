#!/usr/bin/env node
'use strict';
// The CLI is in the bundle dist/neuroflux.js (built by `npm install` through the prepare
// script: scripts/build.js), initialised only when it runs.
require('../dist/neuroflux.js')
  .runNeuroFluxCli(process.argv)
  .catch((error) => {
    process.stderr.write(`${error && error.message ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
