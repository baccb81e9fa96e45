#!/usr/bin/env bash
# Installs kustomize (pinned) into .cache/tools/bin from the Go module proxy, once.
# Used by the k8s rendering test (test/k8s.test.ts) and by .ci/run.
set -euo pipefail
VERSION=v5.8.0
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$ROOT/.cache/tools/bin"
if [ -x "$BIN/kustomize" ] && "$BIN/kustomize" version 2>/dev/null | grep -q "${VERSION}"; then
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "install-kustomize: go is not installed; the k8s rendering test will be skipped" >&2
  exit 0
fi
mkdir -p "$BIN"
GOBIN="$BIN" go install "sigs.k8s.io/kustomize/kustomize/v5@${VERSION}"
"$BIN/kustomize" version
