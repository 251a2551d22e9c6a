#!/usr/bin/env bash
# Vendors the browser libraries of the web UI (Leaflet) from npm into crates/server/assets/vendor/.
# The copied files are committed, so `cargo build` / `cargo run` never needs npm or the network;
# run this only to change a library's version (edit assets/package.json, then this script).
set -euo pipefail
cd "$(dirname "$0")/.."
(cd assets && npm ci --ignore-scripts --no-audit --no-fund)
src=assets/node_modules/leaflet
dst=crates/server/assets/vendor/leaflet
rm -rf "$dst" && mkdir -p "$dst/images"
# No source map next to the file: drop its reference so browsers do not ask for it.
sed '/^\/\/# sourceMappingURL=/d' "$src/dist/leaflet.js" > "$dst/leaflet.js"
cp "$src/dist/leaflet.css" "$dst/leaflet.css"
cp "$src"/dist/images/*.png "$dst/images/"
cp "$src/LICENSE" "$dst/LICENSE"
echo "leaflet $(node -p "require('./$src/package.json').version") → $dst"
