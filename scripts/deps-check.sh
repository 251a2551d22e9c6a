#!/usr/bin/env bash
# Dependency checks: cargo-deny (licences against deny.toml — Vigie is AGPL-3.0-or-later —,
# banned crates, sources, duplicate versions, and RustSec advisories) and cargo-audit (advisories).
# Installs both with `cargo install --locked` when missing (slow the first time on 2 cores; they
# stay in ~/.cargo/bin afterwards).
#
# The RustSec advisory database is a git repository on GitHub. Where GitHub cannot be reached (as
# on some build machines) the advisory checks are SKIPPED WITH A LOUD MESSAGE and everything else
# is still checked; set VIGIE_ADVISORY_DB=/path/to/advisory-db to use a copy brought by other means.
# VIGIE_REQUIRE_ADVISORIES=1 turns the skip into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { # binary crate
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "$2 absent : installation / installing (cargo install --locked $2)…" >&2
  local t0=$SECONDS
  cargo install --locked "$2"
  echo "$2 installé en / installed in $((SECONDS - t0)) s" >&2
}
need cargo-deny cargo-deny

# cargo-deny reads `cargo metadata` offline, which needs every locked crate on disk, including the
# ones only other platforms build (windows-sys…): a build fetched only this platform's.
cargo fetch --locked >/dev/null

# cargo-deny keeps the database under target/advisory-db/advisory-db-<hash of its URL>.
root_db=target/advisory-db
mkdir -p "$root_db"
db=""
if timeout 180 cargo deny fetch db >/dev/null 2>&1; then
  db=$(ls -d "$root_db"/advisory-db-* 2>/dev/null | head -1 || true)
elif [ -n "${VIGIE_ADVISORY_DB:-}" ]; then
  # Ask cargo-deny where it wants the copy (its error names the directory), then put it there.
  want=$(cargo deny --offline check advisories 2>&1 | sed -n "s/.*cannot change to '\([^']*\)'.*/\1/p" | head -1 || true)
  want=${want:-$root_db/advisory-db-local}
  rm -rf "$want"; cp -r "$VIGIE_ADVISORY_DB" "$want"; db=$want
fi

if [ -n "$db" ] && [ -d "$db/crates" ]; then
  echo "== cargo deny (advisories, bans, licences, sources); advisory-db du / of $(git -C "$db" log -1 --format=%cs 2>/dev/null || echo 'copy')" >&2
  cargo deny --all-features --offline check advisories bans licenses sources
  # cargo-audit reads the same database (config: .cargo/audit.toml); it is a second opinion, so
  # it is installed only on request (VIGIE_INSTALL_AUDIT=1) and run whenever present.
  if command -v cargo-audit >/dev/null 2>&1 || { [ "${VIGIE_INSTALL_AUDIT:-0}" = 1 ] && need cargo-audit cargo-audit; }; then
    echo "== cargo audit" >&2
    cargo audit --no-fetch --db "$db"
  else
    echo "cargo-audit absent : ignoré / skipped (cargo deny checked the same advisories)" >&2
  fi
else
  cat >&2 <<'MSG'
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!! AVIS DE SÉCURITÉ NON VÉRIFIÉS : la base RustSec (github.com/rustsec/advisory-db) est      !!
!! injoignable d'ici. Licences, interdits et sources sont vérifiés ; les avis ne le sont pas. !!
!! SECURITY ADVISORIES NOT CHECKED: the RustSec database cannot be fetched from here.        !!
!! Licences, bans and sources are checked; advisories are not. Set VIGIE_ADVISORY_DB.        !!
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
MSG
  [ "${VIGIE_REQUIRE_ADVISORIES:-0}" = 1 ] && exit 1
  cargo deny --all-features --offline check bans licenses sources
fi
echo "dépendances vérifiées / dependencies checked"
