#!/bin/sh
# `npm test`'s static checks: typecheck, eslint and prettier, all three started at once. Each
# is one process: eslint (typed rules, ~40 s) keeps one core, typecheck (~25 s) and prettier
# (~13 s) share the other. One after the other they took ~105 s of the suite's 5 minutes on
# the 2-core CI machine; eslint then prettier beside typecheck, ~55 – 78 s; so, ~64 s.
# Fails when any fails; all always finish so that every problem is printed at once.
npm run -s typecheck &
typecheck=$!
npx prettier --check --log-level warn . &
prettier=$!
npx eslint .
eslint=$?
wait "$typecheck"
typecheck=$?
wait "$prettier"
prettier=$?
[ "$typecheck" -eq 0 ] && [ "$eslint" -eq 0 ] && [ "$prettier" -eq 0 ]
