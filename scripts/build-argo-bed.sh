#!/usr/bin/env bash
# Builds the Argo test bed (docs/argo.md) from Go modules, pinned, into the project-local, ignored
# directory .tools/argo-bed/<key>/: etcd, kube-apiserver, kubectl, kube-scheduler,
# kube-controller-manager, Argo's `argo` (the server) and `workflow-controller`, kwok, and Argo's
# CRDs and RBAC rendered from the same Argo module. <key> is a hash of the pinned versions, the
# wrapper modules under scripts/argo-bed/ and the Argo patch, so a change to any of them builds
# anew and an unchanged one is skipped: running this again prints the directory at once.
#
# Cold (empty Go caches) the build takes about 12 minutes of both cores on 2 cores and up to 2 GB
# of memory (the linker); the module and build caches are the machine's, so a rebuild after a key
# change is mostly links. It runs under `nice`: the machine is shared.
#
# Prints the directory; its bin/ holds the binaries and manifests/ the Argo install.
set -euo pipefail
cd "$(dirname "$0")/.."

ETCD_VERSION=v3.6.16
KUBERNETES_VERSION=v1.34.4
ARGO_VERSION=v4.0.5
KWOK_VERSION=v0.8.0

say() { printf 'build-argo-bed: %s\n' "$*" >&2; }

key_files=(scripts/argo-bed/argo-loopback.patch
  scripts/argo-bed/etcd/go.mod scripts/argo-bed/etcd/go.sum scripts/argo-bed/etcd/main.go
  scripts/argo-bed/kube/go.mod scripts/argo-bed/kube/go.sum scripts/argo-bed/kube/cmd/*/main.go)
key="$({ echo "$ETCD_VERSION $KUBERNETES_VERSION $ARGO_VERSION $KWOK_VERSION"; cat "${key_files[@]}"; } |
  sha256sum | cut -c1-16)"
root="$PWD/.tools/argo-bed"
dir="$root/$key"
binaries=(etcd kube-apiserver kubectl kube-scheduler kube-controller-manager argo workflow-controller kwok)

complete() {
  local b
  for b in "${binaries[@]}"; do [ -x "$1/bin/$b" ] || return 1; done
  [ -f "$1/manifests/crds-minimal.yaml" ] && [ -f "$1/manifests/crds-full.yaml" ] &&
    [ -f "$1/manifests/cluster-install-no-crds.yaml" ] && [ -f "$1/manifests/kwok-stages.yaml" ]
}

if complete "$dir"; then
  echo "$dir"
  exit 0
fi

command -v go >/dev/null 2>&1 || { say "Go is needed to build the Argo test bed"; exit 1; }
# The local toolchain builds every part; none needs a newer one.
export GOTOOLCHAIN=local GOFLAGS="-trimpath -buildvcs=false -mod=readonly"
# Modules come from the Go module proxy only, never straight from a VCS host.
GOPROXY="$(go env GOPROXY | sed -E 's/[,|]direct$//; s/^direct$/off/')"
export GOPROXY
go_nice() { nice -n 10 go "$@"; }
tmp="$dir.tmp.$$"
work="$(mktemp -d)"
trap 'rm -rf "$tmp" "$work"' EXIT
mkdir -p "$tmp/bin" "$tmp/manifests"
start=$(date +%s)
step() {
  say "$1 ($(( $(date +%s) - start )) s so far)"
}

step "etcd ${ETCD_VERSION}"
(cd scripts/argo-bed/etcd && go_nice build -ldflags='-s -w' -o "$tmp/bin/etcd" .)

step "kube-apiserver, kubectl, kube-scheduler, kube-controller-manager ${KUBERNETES_VERSION}"
minor="${KUBERNETES_VERSION#v1.}"
minor="${minor%%.*}"
# Without the version stamp the API server says v0.0.0-master, and Helm refuses the chart's
# kubeVersion constraint.
kv=k8s.io/component-base/version
(cd scripts/argo-bed/kube && go_nice build \
  -ldflags="-s -w -X ${kv}.gitVersion=${KUBERNETES_VERSION} -X ${kv}.gitMajor=1 -X ${kv}.gitMinor=${minor} -X ${kv}.gitTreeState=clean" \
  -o "$tmp/bin/" ./cmd/kube-apiserver ./cmd/kubectl ./cmd/kube-scheduler ./cmd/kube-controller-manager)

step "argo and workflow-controller ${ARGO_VERSION}"
mod="github.com/argoproj/argo-workflows/v4@${ARGO_VERSION}"
GOFLAGS=-mod=mod go mod download "$mod"
cp -r "$(go env GOMODCACHE)/$mod" "$work/argo"
chmod -R u+w "$work/argo"
git -C "$work/argo" apply "$PWD/scripts/argo-bed/argo-loopback.patch"
# The module omits the UI it embeds (//go:embed dist/app); upstream's Makefile writes the same
# placeholder when it builds without static files. The API is unaffected.
mkdir -p "$work/argo/ui/dist/app"
echo "Built without static files" >"$work/argo/ui/dist/app/index.html"
(cd "$work/argo" && go_nice build \
  -ldflags="-s -w -X github.com/argoproj/argo-workflows/v4.version=${ARGO_VERSION}" \
  -o "$tmp/bin/" ./cmd/argo ./cmd/workflow-controller)
for m in crds/full:crds-full crds/minimal:crds-minimal; do
  "$tmp/bin/kubectl" kustomize "$work/argo/manifests/base/${m%%:*}" >"$tmp/manifests/${m#*:}.yaml"
done
"$tmp/bin/kubectl" kustomize "$work/argo/manifests/cluster-install-no-crds" >"$tmp/manifests/cluster-install-no-crds.yaml"

step "kwok ${KWOK_VERSION}"
GOFLAGS="-trimpath -buildvcs=false" GOBIN="$tmp/bin" go_nice install -ldflags='-s -w' "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}"
# kwok's stock stages (nodes ready, pods ready, Job pods complete, deleted pods go), from the same
# module: a --config that names stages replaces kwok's built-in ones, so the bed passes these
# with its own.
kwok_dir="$(GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/kwok@${KWOK_VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
"$tmp/bin/kubectl" kustomize "$kwok_dir/kustomize/stage/fast" >"$tmp/manifests/kwok-stages.yaml"

cat >"$tmp/VERSIONS" <<EOF
etcd ${ETCD_VERSION}
kubernetes ${KUBERNETES_VERSION}
argo-workflows ${ARGO_VERSION}
kwok ${KWOK_VERSION}
EOF
rm -rf "$dir"
mv "$tmp" "$dir"
say "built in $(( $(date +%s) - start )) s"
echo "$dir"
