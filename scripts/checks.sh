#!/bin/sh
# `npm test`'s static checks: typecheck and lint side by side (each is one process on one core;
# run one after the other they took ~105 s of the suite's 5 minutes on the 2-core CI machine).
# Fails when either fails; both always finish so that every problem is printed at once.
npm run -s typecheck &
typecheck=$!
npm run -s lint
lint=$?
wait "$typecheck"
typecheck=$?
[ "$typecheck" -eq 0 ] && [ "$lint" -eq 0 ]
