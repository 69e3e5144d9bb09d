#!/usr/bin/env bash
# Builds a real Temporal server and its SQL schema tool from their Go modules, pinned to one
# release, into the project-local, ignored directory .tools/temporal-server/<version>/. The build
# is skipped when both binaries of that version are already there, so running it again is cheap.
#
# The server release needs a newer Go than Debian ships; GOTOOLCHAIN makes `go` fetch that
# toolchain through the Go module proxy. The first build took 3 min 18 s on 2 cores here
# (peak memory about 2 GB); the module and build caches make a rebuild much faster.
#
# Prints the directory holding `temporal-server`, `temporal-sql-tool` and `schema/`.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_SERVER_VERSION=v1.32.2
GO_TOOLCHAIN=go1.26.10

dir="$PWD/.tools/temporal-server/${TEMPORAL_SERVER_VERSION}"
say() { printf 'build-temporal-server: %s\n' "$*" >&2; }

if [ -x "$dir/temporal-server" ] && [ -x "$dir/temporal-sql-tool" ] && [ -d "$dir/schema/postgresql" ]; then
  echo "$dir"
  exit 0
fi

command -v go >/dev/null 2>&1 || { say "Go is needed to build the Temporal server"; exit 1; }
mkdir -p "$dir.tmp/bin"
export GOTOOLCHAIN="$GO_TOOLCHAIN" GOFLAGS=-trimpath
start=$(date +%s)
say "building go.temporal.io/server ${TEMPORAL_SERVER_VERSION} with ${GO_TOOLCHAIN} (first build: 3 to 4 minutes on 2 cores)"
GOBIN="$dir.tmp/bin" go install \
  "go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION}" \
  "go.temporal.io/server/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}"
mv "$dir.tmp/bin/server" "$dir.tmp/temporal-server"
mv "$dir.tmp/bin/sql" "$dir.tmp/temporal-sql-tool"
rmdir "$dir.tmp/bin"
# The versioned SQL schemas ship in the module source; keep the PostgreSQL ones beside the binaries.
src="$(go env GOMODCACHE)/go.temporal.io/server@${TEMPORAL_SERVER_VERSION}/schema/postgresql"
mkdir -p "$dir.tmp/schema"
cp -r "$src" "$dir.tmp/schema/postgresql"
chmod -R u+w "$dir.tmp/schema"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
say "built in $(( $(date +%s) - start )) s"
echo "$dir"
