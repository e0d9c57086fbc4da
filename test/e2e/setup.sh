#!/usr/bin/env bash
# Provides kube-apiserver and etcd for the e2e suite, in the envtest layout (one directory holding
# both binaries), at $KUBEBUILDER_ASSETS or the project default below.
#
# Kubernetes ships no binaries through the registries these machines reach, so kube-apiserver is
# built from Debian 12's `kubernetes` source package (v1.20.2) with Debian's Go; etcd comes from
# Debian's etcd-server. The result is cached outside the checkout: a second run takes seconds.
#
# Usage: test/e2e/setup.sh [--print-dir]
set -euo pipefail

K8S_VERSION=1.20.2
ASSETS=${KUBEBUILDER_ASSETS:-${XDG_CACHE_HOME:-$HOME/.cache}/vineyard-webhook/k8s-$K8S_VERSION}
WORK=${VINEYARD_E2E_BUILD_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vineyard-webhook/build}

if [ "${1:-}" = "--print-dir" ]; then echo "$ASSETS"; exit 0; fi

have_assets() { [ -x "$ASSETS/kube-apiserver" ] && [ -x "$ASSETS/etcd" ]; }
if have_assets; then
  echo "e2e binaries present in $ASSETS"
  exit 0
fi

log() { echo "e2e-setup: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
mkdir -p "$ASSETS" "$WORK"
started=$(date +%s)

# Debian's Go builds 1.20 only with reflect2 >= 1.0.2 (see step 3); etcd 3.4 is Debian's.
need=()
command -v go >/dev/null || need+=(golang-go)
[ -d /usr/share/gocode/src/github.com/modern-go/reflect2 ] || need+=(golang-github-modern-go-reflect2-dev)
command -v etcd >/dev/null || [ -x /usr/bin/etcd ] || need+=(etcd-server)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
fi
ln -sfn "$(command -v etcd || echo /usr/bin/etcd)" "$ASSETS/etcd"

# 1) The source: the orig tarball of Debian's `kubernetes` package holds the whole tree with vendor/.
SRC="$WORK/kubernetes-$K8S_VERSION"
if [ ! -f "$SRC/cmd/kube-apiserver/apiserver.go" ]; then
  log "downloading Debian's kubernetes source package"
  debsrc=/etc/apt/sources.list.d/vineyard-webhook-debsrc.sources
  sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources | as_root tee "$debsrc" >/dev/null
  trap 'as_root rm -f "$debsrc"' EXIT
  as_root apt-get update -q >/dev/null
  # Debian versions it 1.20.5+really1.20.2: the tree is v1.20.2.
  (cd "$WORK" && apt-get source --download-only kubernetes >/dev/null 2>&1)
  as_root rm -f "$debsrc"
  as_root apt-get update -q >/dev/null
  trap - EXIT
  rm -rf "$SRC.partial" && mkdir -p "$SRC.partial"
  tar xzf "$WORK"/kubernetes_*.orig.tar.gz -C "$SRC.partial" --strip-components=1
  mv "$SRC.partial" "$SRC"
fi

# 2) Kubernetes 1.20 builds in GOPATH mode; module mode with Go 1.19 refuses its vendor/ tree.
export GOPATH="$WORK/gopath" GO111MODULE=off CGO_ENABLED=0 GOFLAGS= GOPROXY=off
export GOCACHE="${GOCACHE:-$WORK/gocache}"
mkdir -p "$GOPATH/src/k8s.io"
ln -sfn "$SRC" "$GOPATH/src/k8s.io/kubernetes"
cd "$GOPATH/src/k8s.io/kubernetes"

# 3) The vendored reflect2 1.0.1 faults under Go >= 1.18 when the API server encodes a map (the
#    mutating webhook's patch annotation does); Debian's 1.0.2 is API compatible.
R=vendor/github.com/modern-go/reflect2
if [ ! -f "$R/go_above_118.go" ]; then
  rm -rf "$R" && cp -r /usr/share/gocode/src/github.com/modern-go/reflect2 "$R"
fi

# 3b) OpenAPI's type check treats a value as null when reflect.DeepEqual says its reflect.Value
#     equals the zero Value of its type. With the Go 1.15 that 1.20 shipped with that was never
#     true; with Go >= 1.18 it is true for "", so every empty string in a custom resource (and
#     every `default: ""` in a CRD) is refused as null. Restore the released behaviour: only nil
#     is null.
for f in vendor/k8s.io/kube-openapi/pkg/validation/validate/type.go vendor/github.com/go-openapi/validate/type.go; do
  if grep -q 'reflect.DeepEqual(reflect.Zero(reflect.TypeOf(data)), reflect.ValueOf(data))' "$f"; then
    sed -i 's/if data == nil || reflect.DeepEqual(reflect.Zero(reflect.TypeOf(data)), reflect.ValueOf(data)) {/if data == nil {/' "$f"
  fi
  grep -q 'if data == nil {' "$f" || { log "$f: the null check to restore was not found"; exit 1; }
done

# 4) The tarball lacks the generated OpenAPI definitions that `make generated_files` would write.
if [ ! -f pkg/generated/openapi/zz_generated.openapi.go ]; then
  log "generating OpenAPI definitions"
  go build -o "$WORK/openapi-gen" ./vendor/k8s.io/kube-openapi/cmd/openapi-gen
  # Every package outside vendor/ with a +k8s:openapi-gen tag, staging packages under their
  # vendor/ import path (as Makefile.generated_files lists them).
  pkgs=$(find -H . \( -path ./vendor -o -path './_*' -o -path './.*' \) -prune -o -type f -name '*.go' -print \
    | xargs grep -l '^// *+k8s:' | xargs grep -l '+k8s:openapi-gen=' \
    | sed 's|^\./staging/src/|vendor/|; s|^\./||' \
    | grep -v -E '^vendor/k8s.io/(code-generator|sample-apiserver)/' \
    | xargs -n1 dirname | LC_ALL=C sort -u | sed 's|^|k8s.io/kubernetes/|' | paste -sd, -)
  "$WORK/openapi-gen" -i "$pkgs" -p k8s.io/kubernetes/pkg/generated/openapi -O zz_generated.openapi \
    -h vendor/k8s.io/code-generator/hack/boilerplate.go.txt -r "$WORK/openapi-violations.report"
fi

# 5) Build, stamped with the version the way hack/lib/version.sh does (clients read /version).
log "building kube-apiserver (several minutes on 2 cores; cached afterwards)"
ldflags="-s -w"
for p in k8s.io/kubernetes/vendor/k8s.io/component-base/version k8s.io/kubernetes/vendor/k8s.io/client-go/pkg/version; do
  ldflags="$ldflags -X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=20 -X $p.gitTreeState=clean"
done
go build -ldflags "$ldflags" -o "$ASSETS/kube-apiserver.partial" ./cmd/kube-apiserver
mv "$ASSETS/kube-apiserver.partial" "$ASSETS/kube-apiserver"
log "kube-apiserver v$K8S_VERSION and etcd ready in $ASSETS ($(( $(date +%s) - started ))s)"
