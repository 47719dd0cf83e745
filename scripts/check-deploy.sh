#!/usr/bin/env bash
# Validates the deployment like code (`make test-deploy`, part of `make test`):
#   1. helm lint, with default values and with helm/tributary/ci/all-enabled-values.yaml;
#   2. helm template with both; kubeconform -strict on the output against the
#      Kubernetes schemas (scripts/stack/tools.sh). No schema is shipped for the
#      custom resources ScaledObject (KEDA), ServiceMonitor and PrometheusRule
#      (prometheus-operator): kubeconform skips exactly those kinds, and
#      check-deploy.py checks them against the rest of the output instead;
#   3. promtool check rules on the rendered PrometheusRule's spec (with default
#      values it must be the rules file verbatim), and promtool test rules;
#   4. every command line the chart (and docker-compose.yml) renders is parsed by the `tributary`
#      binary built from this tree: `tributary <args> --help` exits 0 only if
#      every argument before --help parses (checked first on a bad flag), so a
#      renamed flag breaks this test, not production. (clap checks the values
#      of global options such as --log-format only after --help; the chart
#      passes those by environment variable and renders only `--config FILE`.)
# Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
chart=helm/tributary
rules_file=$chart/files/prometheus-rules.yaml
rules_tests=helm/tests/prometheus-rules.test.yaml

step() { printf '[deploy] %s\n' "$*"; }

scripts/stack/tools.sh up
eval "$(scripts/stack/tools.sh env)"
python3 -c 'import yaml' 2>/dev/null || {
    step "installing python3-yaml"
    source scripts/stack/common.sh
    apt_install python3-yaml
}

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

kube=(--kube-version "$TRIBUTARY_K8S_VERSION")
declare -A values=([default]="" [all-enabled]="-f $chart/ci/all-enabled-values.yaml")
for name in default all-enabled; do
    # shellcheck disable=SC2086 # the values flag is one or two words on purpose
    set -- ${values[$name]}
    step "helm lint ($name values)"
    helm lint --strict "${kube[@]}" "$chart" "$@" >"$out/lint.log" || { cat "$out/lint.log"; exit 1; }
    step "helm template ($name values)"
    helm template tributary "$chart" "${kube[@]}" --namespace tributary "$@" >"$out/$name.yaml"
done

step "values.schema.json refuses typos and wrong types"
for bad in indexer.replicass=2 indexer.replicas=two indexer.keda.minReplicas=0 config.kafka.topik=x \
    'connectors[0].kind=jira,connectors[0].instance=acme' connectorDefaults.schedule=hourly; do
    if helm template tributary "$chart" "${kube[@]}" --set "$bad" >/dev/null 2>&1; then
        echo "values.schema.json accepted --set $bad" >&2
        exit 1
    fi
done

step "kubeconform -strict (Kubernetes ${TRIBUTARY_K8S_VERSION}; ScaledObject, ServiceMonitor, PrometheusRule skipped)"
kubeconform -strict -summary \
    -kubernetes-version "$TRIBUTARY_K8S_VERSION" \
    -schema-location "$TRIBUTARY_K8S_SCHEMAS/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
    -skip ScaledObject,ServiceMonitor,PrometheusRule \
    "$out/default.yaml" "$out/all-enabled.yaml"

step "the rendered config files parse"
for name in default all-enabled; do python3 scripts/check-deploy.py toml "$out/$name.yaml"; done

step "custom resources against the rendered objects"
python3 scripts/check-deploy.py crds "$out/all-enabled.yaml"

step "the PrometheusRule renders the rules file (default values), promtool check rules"
helm template tributary "$chart" "${kube[@]}" --set prometheusRule.enabled=true >"$out/rules-default.yaml"
python3 scripts/check-deploy.py rules "$out/rules-default.yaml" "$rules_file" "$out/rules-default.spec.yaml" verbatim
python3 scripts/check-deploy.py rules "$out/all-enabled.yaml" "$rules_file" "$out/rules-all.spec.yaml" as-rendered
promtool check rules "$rules_file" "$out/rules-default.spec.yaml" "$out/rules-all.spec.yaml"

step "promtool test rules"
promtool test rules "$rules_tests"

step "every rendered command line parses (tributary <args> --help)"
# The Makefile's default target directory, so `make test` builds this once.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tributary/target}"
bin="$CARGO_TARGET_DIR/debug/tributary"
cargo build --locked -q -p tributary
[ -x "$bin" ] || { echo "no binary at $bin" >&2; exit 1; }
# The method itself: an unknown flag before --help must fail.
if "$bin" index --no-such-flag --help >/dev/null 2>&1; then
    echo "tributary accepted an unknown flag before --help: this check would prove nothing" >&2
    exit 1
fi
n=0
for name in default all-enabled compose; do
    while IFS= read -r line; do
        where=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["where"])' "$line")
        mapfile -t argv < <(python3 -c 'import json,sys; print("\n".join(json.loads(sys.argv[1])["args"]))' "$line")
        if ! "$bin" "${argv[@]}" --help >/dev/null 2>"$out/args.err"; then
            echo "$where: \`tributary ${argv[*]}\` is refused by the binary:" >&2
            cat "$out/args.err" >&2
            exit 1
        fi
        printf '  ok  %-50s tributary %s\n' "$where" "${argv[*]}"
        n=$((n + 1))
    done < <(if [ "$name" = compose ]; then
                 python3 scripts/check-deploy.py compose docker-compose.yml
             else
                 python3 scripts/check-deploy.py args "$out/$name.yaml"
             fi)
done
[ "$n" -gt 0 ] || { echo "no command line found in the rendered chart" >&2; exit 1; }
step "deploy checks passed ($n command lines)"
