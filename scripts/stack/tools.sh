#!/usr/bin/env bash
# Deployment check tools: helm, kubeconform (built with `go install` at pinned
# versions) and promtool (extracted from Debian's prometheus package, never
# installed: installing it would also start a Prometheus server).
#   tools.sh up      install what is missing (idempotent; the first run builds
#                    helm from source and takes several minutes)
#   tools.sh env     print `export PATH=...` for the tools directory
#   tools.sh status  which tools are present
# Binaries live under TRIBUTARY_HOME/tools, outside the clone, one directory
# per pinned version so bumping a version installs the new one beside the old.
source "$(dirname "$0")/common.sh"

HELM_VERSION="${HELM_VERSION:-v3.21.4}"
KUBECONFORM_VERSION="${KUBECONFORM_VERSION:-v0.7.0}"
TOOLS_HOME="$TRIBUTARY_HOME/tools"
HELM_BIN="$TOOLS_HOME/helm-$HELM_VERSION/helm"
KUBECONFORM_BIN="$TOOLS_HOME/kubeconform-$KUBECONFORM_VERSION/kubeconform"
PROMTOOL_BIN="$TOOLS_HOME/promtool/promtool"
TOOLS_BIN="$TOOLS_HOME/bin"

ensure_go() {
    if command -v go >/dev/null 2>&1; then return; fi
    log "go not found: installing golang-go"
    apt_install golang-go ca-certificates
}

# go_install <package@version> <destination binary>
# Builds into a temporary GOBIN and moves the binary into place only once the
# build succeeded, so an interrupted build never leaves a half-written tool.
go_install() {
    local pkg="$1" dest="$2"
    local dir tmp
    dir=$(dirname "$dest")
    mkdir -p "$dir"
    tmp=$(mktemp -d "$dir.build.XXXXXX")
    log "building $pkg with go install (first time only; may take several minutes)"
    # nice: the machine is shared with cargo builds; helm's build is long.
    if ! GOBIN="$tmp" GOFLAGS=-buildvcs=false nice -n 10 go install "$pkg" >&2; then
        rm -rf "$tmp"
        die "go install $pkg failed"
    fi
    mv "$tmp/$(basename "$dest")" "$dest"
    rm -rf "$tmp"
    log "installed $dest"
}

install_promtool() {
    local dir tmp deb
    dir=$(dirname "$PROMTOOL_BIN")
    mkdir -p "$dir"
    tmp=$(mktemp -d "$dir.build.XXXXXX")
    log "extracting promtool from Debian's prometheus package (the server is not installed)"
    if ! (cd "$tmp" && apt-get download prometheus >&2 2>/dev/null); then
        # The package lists may be missing on a fresh machine.
        if [ "$(id -u)" != 0 ]; then
            rm -rf "$tmp"
            die "cannot download the prometheus package (run as root, or put promtool on PATH)"
        fi
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        (cd "$tmp" && apt-get download prometheus >&2) || { rm -rf "$tmp"; die "apt-get download prometheus failed"; }
    fi
    deb=$(ls "$tmp"/prometheus_*.deb)
    dpkg-deb -x "$deb" "$tmp/root"
    mv "$tmp/root/usr/bin/promtool" "$PROMTOOL_BIN"
    rm -rf "$tmp"
    "$PROMTOOL_BIN" --version >/dev/null 2>&1 || die "the extracted promtool does not run"
    log "installed $PROMTOOL_BIN"
}

link_tools() {
    mkdir -p "$TOOLS_BIN"
    ln -sfn "$HELM_BIN" "$TOOLS_BIN/helm"
    ln -sfn "$KUBECONFORM_BIN" "$TOOLS_BIN/kubeconform"
    ln -sfn "$PROMTOOL_BIN" "$TOOLS_BIN/promtool"
}

case "${1:-}" in
    up)
        if [ ! -x "$HELM_BIN" ] || [ ! -x "$KUBECONFORM_BIN" ]; then ensure_go; fi
        [ -x "$KUBECONFORM_BIN" ] || go_install "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION" "$KUBECONFORM_BIN"
        [ -x "$HELM_BIN" ] || go_install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" "$HELM_BIN"
        [ -x "$PROMTOOL_BIN" ] || install_promtool
        link_tools
        log "tools ready in $TOOLS_BIN (helm $HELM_VERSION, kubeconform $KUBECONFORM_VERSION, promtool)"
        ;;
    env)
        echo "export PATH=$TOOLS_BIN:\$PATH"
        ;;
    status)
        rc=0
        for t in "$HELM_BIN" "$KUBECONFORM_BIN" "$PROMTOOL_BIN"; do
            if [ -x "$t" ]; then log "present: $t"; else log "missing: $t"; rc=1; fi
        done
        exit $rc
        ;;
    *) echo "usage: $0 up|env|status" >&2; exit 2 ;;
esac
