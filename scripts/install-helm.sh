#!/usr/bin/env bash
# Builds the pinned helm (v3) from its Go module into .tools/helm/<version>/helm, for the Helm
# chart's test (test/unit/helm-chart.test.ts). No release binary is downloaded: the Go module proxy
# serves the source, checked against the Go checksum database, and Go compiles it (about two
# minutes on 2 cores the first time; nothing afterwards). Go: the machine's when it is new enough,
# else the pinned toolchain, which the module proxy also serves (golang.org/toolchain), checked by
# SHA-256 here. Idempotent: skips when the binary is there. Prints the binary's path on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

HELM_VERSION=v3.21.4      # helm.sh/helm/v3; its go.mod needs Go >= 1.26.0
HELM_GO_MIN=1.26.0
HELM_GO=go1.26.8          # used when the machine's Go is missing or older than HELM_GO_MIN
declare -A HELM_GO_SHA256=(  # golang.org/toolchain@v0.0.1-${HELM_GO}.<platform>.zip
  [linux-amd64]=30c2b1bf7dcc88d3eb0a1364e47ddd9128edb3110a30e8a0ef61cd5856b31de7
  [linux-arm64]=02b36b6787b3ac767668f630e2998df45a3b1f9ffee08d1bf3ef6487cd658d99
)
# The Kubernetes version `helm template` assumes when not told, as helm's Makefile sets it from the
# release's k8s.io/client-go (v0.36); the test passes --kube-version anyway.
HELM_K8S_MAJOR=1
HELM_K8S_MINOR=36

say() { printf 'install-helm: %s\n' "$*" >&2; }

dir="$PWD/.tools/helm/${HELM_VERSION}"
if [ -x "${dir}/helm" ] && "${dir}/helm" version --template '{{.Version}}' 2>/dev/null | grep -qx "${HELM_VERSION}"; then
  echo "${dir}/helm"
  exit 0
fi

# Which Go builds it.
go_bin=go
toolchain=local
local_go="$(go env GOVERSION 2>/dev/null || true)"   # e.g. go1.26.8
newest() { printf '%s\n%s\n' "$1" "$2" | sort -V | tail -n1; }
if [ -n "${local_go}" ] && [ "$(newest "${local_go#go}" "${HELM_GO_MIN}")" = "${local_go#go}" ]; then
  :
elif [ -n "${local_go}" ] && [ "$(newest "${local_go#go}" 1.21)" = "${local_go#go}" ]; then
  toolchain="${HELM_GO}"   # Go >= 1.21 fetches (and checks) the toolchain itself
else
  platform="linux-$(uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/')"
  sha="${HELM_GO_SHA256[$platform]:-}"
  [ -n "${sha}" ] || { say "no pinned Go toolchain for ${platform}; install Go >= ${HELM_GO_MIN}"; exit 1; }
  go_root="$PWD/.tools/go/${HELM_GO}"
  if [ ! -x "${go_root}/bin/go" ]; then
    proxy="${GOPROXY:-https://proxy.golang.org}"
    proxy="${proxy%%,*}"
    case "${proxy}" in direct | off) proxy=https://proxy.golang.org ;; esac
    say "fetching Go ${HELM_GO} (${platform}) from ${proxy}"
    module="golang.org/toolchain@v0.0.1-${HELM_GO}.${platform}"
    python3 - "${proxy}/golang.org/toolchain/@v/v0.0.1-${HELM_GO}.${platform}.zip" "${sha}" "${go_root}" "${module}/" <<'PY'
import hashlib, io, os, shutil, sys, urllib.request, zipfile
url, sha, root, prefix = sys.argv[1:]
data = urllib.request.urlopen(url, timeout=300).read()
if hashlib.sha256(data).hexdigest() != sha:
    sys.exit(f"install-helm: {url}: SHA-256 mismatch")
tmp = root + ".tmp"
shutil.rmtree(tmp, ignore_errors=True)
with zipfile.ZipFile(io.BytesIO(data)) as archive:
    for info in archive.infolist():
        if info.is_dir() or not info.filename.startswith(prefix):
            continue
        target = os.path.join(tmp, info.filename[len(prefix):])
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with archive.open(info) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.chmod(target, (info.external_attr >> 16) & 0o777 or 0o644)
shutil.rmtree(root, ignore_errors=True)
os.rename(tmp, root)
PY
  fi
  go_bin="${go_root}/bin/go"
fi

say "building helm ${HELM_VERSION} from its Go module with $("${go_bin}" env GOVERSION 2>/dev/null || echo go) (toolchain ${toolchain}; first time only)"
mkdir -p "${dir}"
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}"
for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
  ldflags+=" -X ${pkg}.k8sVersionMajor=${HELM_K8S_MAJOR} -X ${pkg}.k8sVersionMinor=${HELM_K8S_MINOR}"
done
GOTOOLCHAIN="${toolchain}" CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOBIN="${dir}" \
  "${go_bin}" install -trimpath -ldflags "${ldflags}" "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}"
"${dir}/helm" version --template '{{.Version}}' | grep -qx "${HELM_VERSION}"
echo "${dir}/helm"
