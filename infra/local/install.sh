#!/usr/bin/env bash
# Installs what the local services (infra/local/services.ts) and the tests need, on a machine that has never seen
# the project: Debian packages, plus FerretDB, MinIO and Helm built from their Go modules, and the Helm chart's
# validator (infra/helm/validate), cached outside the clone, keyed by version (the validator by its sources' hash). Idempotent; takes well under 2 s when everything is there.
# Progress goes to stderr; stdout stays empty.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Versions live in versions.ts only (the TypeScript side needs them too); read them from there.
version_of() { sed -n "s/^export const $1 = '\([^']*\)';\$/\1/p" "$here/versions.ts"; }
FERRETDB_VERSION="$(version_of FERRETDB_VERSION)"
MINIO_VERSION="$(version_of MINIO_VERSION)"
HELM_VERSION="$(version_of HELM_VERSION)"
FERRETDB_BUILD_SUFFIX="$(version_of FERRETDB_BUILD_SUFFIX)"

# chromium: the browser tests drive it (playwright-core, executablePath /usr/bin/chromium).
# haproxy: the balancer in front of several server processes in `npm run bench:scale` (test/bench/scale.bench.ts); its
# package's own service has no frontend in Debian's default configuration, so it listens on no port.
APT_PACKAGES=(redis-server ffmpeg fonts-noto-core fonts-noto-ui-core chromium haproxy)
CACHE_DIR="${SOLIDARITY_CACHE_DIR:-${HOME:?HOME is not set}/.cache/solidarity-clips}"
BIN_DIR="$CACHE_DIR/bin"
PROMTOOL_BIN="$BIN_DIR/promtool"
FERRETDB_BIN="$BIN_DIR/ferretdb-$FERRETDB_VERSION-$FERRETDB_BUILD_SUFFIX"
MINIO_BIN="$BIN_DIR/minio-$MINIO_VERSION"
HELM_BIN="$BIN_DIR/helm-$HELM_VERSION"
VALIDATOR_SRC="$here/../helm/validate"
# Keep in step with chartValidatorHash() in versions.ts: the three files, in this order.
validator_hash() { cat "$VALIDATOR_SRC/go.mod" "$VALIDATOR_SRC/go.sum" "$VALIDATOR_SRC/main.go" | sha256sum | cut -c1-12; }
VALIDATOR_BIN="$BIN_DIR/validate-chart-$(validator_hash)"

say() { echo "install: $*" >&2; }
die() { echo "install: error: $*" >&2; exit 1; }

[[ -n "$FERRETDB_VERSION" && -n "$FERRETDB_BUILD_SUFFIX" && -n "$MINIO_VERSION" && -n "$HELM_VERSION" ]] || die "could not read the versions from $here/versions.ts"

mkdir -p "$BIN_DIR"
# One install at a time (e.g. `npm test` and `npm start` started together): no double builds, no apt lock fights.
exec 9>"$CACHE_DIR/install.lock"
flock 9

# --- Debian packages ---------------------------------------------------------------------------
sudo=()
if [[ $EUID -ne 0 ]] && command -v sudo >/dev/null; then sudo=(sudo); fi
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
  [[ $EUID -eq 0 || ${#sudo[@]} -gt 0 ]] || die "need root or sudo to install: ${missing[*]}"
  say "installing Debian packages: ${missing[*]}"
  # apt prints to stdout; keep stdout clean for callers.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# --- promtool ------------------------------------------------------------------------------------
# It checks and tests the alerting rules (test/unit/alerts.test.ts). Only the binary is taken out of Debian's
# prometheus package and kept in the cache: installing the package would also start a Prometheus server (port
# 9090, every address) on a machine run by systemd.
if ! "$PROMTOOL_BIN" --version >/dev/null 2>&1; then
  mkdir -p "$CACHE_DIR/tmp"
  unpack="$(mktemp -d "$CACHE_DIR/tmp/promtool.XXXXXX")"
  say "unpacking promtool from Debian's prometheus package"
  if ! (cd "$unpack" && apt-get download -qq prometheus >&2 2>/dev/null); then
    # No package lists yet (a fresh machine whose other packages were all there): fetch them once.
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    (cd "$unpack" && apt-get download -qq prometheus >&2) || die "could not download Debian's prometheus package"
  fi
  dpkg-deb -x "$unpack"/prometheus_*.deb "$unpack/root"
  install -m 755 "$unpack/root/usr/bin/promtool" "$PROMTOOL_BIN.new"
  mv -f "$PROMTOOL_BIN.new" "$PROMTOOL_BIN"
  rm -rf "$unpack"
  "$PROMTOOL_BIN" --version >/dev/null 2>&1 || die "the unpacked promtool does not run"
fi

# --- Go-built binaries ---------------------------------------------------------------------------
runs() { [[ -x "$1" ]] && "$1" --version >/dev/null 2>&1; }

GO=""
find_go() {
  [[ -n "$GO" ]] && return
  if command -v go >/dev/null; then GO="$(command -v go)"
  elif [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go
  else die "Go is needed to build FerretDB/MinIO/Helm but is not on PATH nor at /usr/local/go/bin/go"
  fi
}

work=""
cleanup() { [[ -z "$work" ]] || rm -rf "$work"; }
trap cleanup EXIT
new_workdir() {
  # Under the cache dir, so the final mv into bin/ is an atomic rename on the same filesystem.
  mkdir -p "$CACHE_DIR/tmp"
  work="$(mktemp -d "$CACHE_DIR/tmp/build.XXXXXX")"
}

# Go's own output (hundreds of "go: downloading" lines) goes to a log, shown only if a step fails.
quietly() {
  "$@" >>"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log" >&2; die "failed: $*"; }
}
# Flags shared by both builds:
#   CGO_ENABLED=0   static binaries; both projects are pure Go (FerretDB's SQLite is modernc.org/sqlite)
#   -buildvcs=false the build dir is not a git checkout; never stamp whatever repo might enclose it
go_build() { (cd "$1" && quietly env CGO_ENABLED=0 "$GO" build -buildvcs=false -o "$2" "$3"); }

if ! runs "$FERRETDB_BIN"; then
  find_go
  new_workdir
  say "building FerretDB $FERRETDB_VERSION (1-3 min)"
  start=$SECONDS
  # `go install …@version` is refused by the proxy's version list; downloading the module works.
  (cd "$work" && quietly "$GO" mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION")
  dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' "$work/build.log")"
  [[ -d "$dir" ]] || die "go mod download gave no module folder for FerretDB $FERRETDB_VERSION"
  # The module cache is read-only; build in a writable copy.
  cp -R "$dir" "$work/src"
  chmod -R u+w "$work/src"
  # Normally generated from `git describe`; without it the binary panics at start.
  printf '%s\n' "$FERRETDB_VERSION" >"$work/src/build/version/version.txt"
  # FerretDB 1.24's SQLite backend never uses the `_id` index it creates: the index is on `_ferretdb_sjson->"_id"`,
  # while finds, updates and deletes by `_id` say `_ferretdb_sjson->'$._id'`, and SQLite matches an index expression
  # as written. So every lookup by `_id` scanned the whole table (EXPLAIN QUERY PLAN: SCAN; a findOne took 110 ms at
  # 100 000 documents, 2.5 ms at 1 000). Its PostgreSQL backend writes `->'_id'`; this line makes SQLite's the same.
  # v1 gets no more releases (upstream's similar report for PostgreSQL: FerretDB/FerretDB#4646).
  # test/integration/ferretdb-id-index.test.ts reads the plan through `explain`.
  id_column_file="$work/src/internal/backends/sqlite/metadata/metadata.go"
  sed -i "s|IDColumn = DefaultColumn + \"->'\$._id'\"|IDColumn = DefaultColumn + \"->'_id'\"|" "$id_column_file"
  grep -q "IDColumn = DefaultColumn + \"->'_id'\"" "$id_column_file" || die "could not apply the _id index fix to FerretDB $FERRETDB_VERSION"
  go_build "$work/src" "$work/ferretdb" ./cmd/ferretdb
  runs "$work/ferretdb" || die "the freshly built FerretDB does not run"
  mv -f "$work/ferretdb" "$FERRETDB_BIN"
  cleanup; work=""
  say "built $FERRETDB_BIN in $((SECONDS - start)) s"
fi

if ! runs "$MINIO_BIN"; then
  find_go
  new_workdir
  say "building MinIO $MINIO_VERSION (2-5 min)"
  start=$SECONDS
  # MinIO publishes no semver tags on the proxy; a scratch module pins the pseudo-version.
  mkdir "$work/src"
  (cd "$work/src" && quietly "$GO" mod init scratch && quietly "$GO" get "github.com/minio/minio@$MINIO_VERSION")
  go_build "$work/src" "$work/minio" github.com/minio/minio
  runs "$work/minio" || die "the freshly built MinIO does not run"
  mv -f "$work/minio" "$MINIO_BIN"
  cleanup; work=""
  say "built $MINIO_BIN in $((SECONDS - start)) s"
fi

# `helm --version` is no flag of Helm's: it answers `helm version`.
helm_runs() { [[ -x "$1" ]] && "$1" version --short >/dev/null 2>&1; }
if ! helm_runs "$HELM_BIN"; then
  find_go
  new_workdir
  say "building Helm $HELM_VERSION (2-4 min)"
  start=$SECONDS
  (cd "$work" && quietly "$GO" mod download -json "helm.sh/helm/v4@$HELM_VERSION")
  dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' "$work/build.log")"
  [[ -d "$dir" ]] || die "go mod download gave no module folder for Helm $HELM_VERSION"
  # Built in the (read-only) module folder with its own go.mod and go.sum, as its Makefile does: -s -w and the
  # version stamp (`helm version` would say v4-dev otherwise).
  (cd "$dir" && quietly env CGO_ENABLED=0 "$GO" build -buildvcs=false -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" -o "$work/helm" ./cmd/helm)
  helm_runs "$work/helm" || die "the freshly built Helm does not run"
  mv -f "$work/helm" "$HELM_BIN"
  cleanup; work=""
  say "built $HELM_BIN in $((SECONDS - start)) s"
fi

# The chart validator: decodes every rendered object strictly into its Kubernetes API type (infra/helm/validate).
if [[ ! -x "$VALIDATOR_BIN" ]]; then
  find_go
  new_workdir
  say "building the Helm chart validator (about 1 min)"
  start=$SECONDS
  cp "$VALIDATOR_SRC/go.mod" "$VALIDATOR_SRC/go.sum" "$VALIDATOR_SRC/main.go" "$work/"
  go_build "$work" "$work/validate-chart" .
  # Builds of earlier sources are of no further use.
  rm -f "$BIN_DIR"/validate-chart-*
  mv -f "$work/validate-chart" "$VALIDATOR_BIN"
  cleanup; work=""
  say "built $VALIDATOR_BIN in $((SECONDS - start)) s"
fi
