#!/usr/bin/env bash
# Re-fetch the panel's vendored ES-module libraries from the npm registry at pinned versions.
# Usage: bash scripts/vendor_panel.sh   (needs npm or curl, tar, sha256sum)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/src/octopus/web/panel/assets/vendor"
REGISTRY="${NPM_REGISTRY:-https://registry.npmjs.org}"

# name version "tarball-path:vendored-name ..."
PACKAGES=(
  "preact 11.2.0 dist/preact.mjs:preact.mjs hooks/dist/hooks.mjs:hooks.mjs LICENSE:LICENSE"
  "htm 3.1.1 dist/htm.mjs:htm.mjs LICENSE:LICENSE"
  "uplot 1.6.32 dist/uPlot.esm.js:uPlot.esm.js dist/uPlot.min.css:uPlot.min.css LICENSE:LICENSE"
)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fetch_tarball() {  # name version -> path of the .tgz
  local name="$1" version="$2" tgz="$work/$1-$2.tgz"
  if command -v npm >/dev/null 2>&1; then
    (cd "$work" && npm pack --silent "$name@$version" >/dev/null)
  else
    curl -fsSL "$REGISTRY/$name/-/$name-$version.tgz" -o "$tgz"
  fi
  echo "$tgz"
}

rm -rf "$DEST"
mkdir -p "$DEST"
manifest="$DEST/manifest.json"
echo '{"source": "npm registry", "packages": [' >"$manifest"
first=1
for entry in "${PACKAGES[@]}"; do
  read -r name version files <<<"$entry"
  tgz="$(fetch_tarball "$name" "$version")"
  mkdir -p "$work/$name"
  tar xzf "$tgz" -C "$work/$name"
  dir="$DEST/$name-$version"
  mkdir -p "$dir"
  file_json=""
  for pair in $files; do
    src="${pair%%:*}" dst="${pair##*:}"
    cp "$work/$name/package/$src" "$dir/$dst"
    # source maps are not vendored, so drop the comments that point at them
    case "$dst" in *.js | *.mjs) sed -i '/^\/\/# sourceMappingURL=/d' "$dir/$dst" ;; esac
    sum="$(sha256sum "$dir/$dst" | cut -d' ' -f1)"
    file_json="$file_json${file_json:+, }{\"path\": \"$name-$version/$dst\", \"from\": \"$src\", \"sha256\": \"$sum\"}"
  done
  tarsum="$(sha256sum "$tgz" | cut -d' ' -f1)"
  [ "$first" = 1 ] || echo ',' >>"$manifest"
  first=0
  printf '  {"name": "%s", "version": "%s", "tarball_sha256": "%s", "files": [%s]}' \
    "$name" "$version" "$tarsum" "$file_json" >>"$manifest"
  echo "vendored $name@$version"
done
printf '\n]}\n' >>"$manifest"
