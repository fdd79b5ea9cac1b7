#!/usr/bin/env bash
# The pre-step of `npm start`, `npm test` and the benchmarks: installs what is missing, fast when all is there.
#  1. Debian packages and the local service binaries (infra/local/install.sh)
#  2. npm packages, when package-lock.json is newer than the installed tree
#  3. the TypeScript build (incremental)
set -euo pipefail
cd "$(dirname "$0")/../.."

bash infra/local/install.sh

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages" >&2
  # npm install, not npm ci: the registry here lists only this platform's optional binaries, and npm ci
  # refuses a lock file that lacks the other platforms'. With a lock file, npm install installs exactly it.
  # SKIP_RUST_BUILD: c2pa-node's tarball holds its prebuilt binary; its postinstall would fetch one from GitHub.
  SKIP_RUST_BUILD=1 npm install --no-audit --no-fund --loglevel=error
fi

npx --no-install tsc -p tsconfig.json --incremental --tsBuildInfoFile dist/.tsbuildinfo
