#!/bin/sh
# Builds the web client for the CMake build (target web-client):
#   build-web.sh WEB_SOURCE_DIR OUT_DIR
# npm ci only when the lock file changed since the last install; then the
# client's own build (type check + vite) into OUT_DIR.
set -eu
web="$1" out="$2"
cd "$web"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run build --silent -- --outDir "$out" --emptyOutDir
