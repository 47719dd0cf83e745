#!/usr/bin/env python3
"""Checks on the chart's rendered manifests that need to read them (run by
scripts/check-deploy.sh):

  rules  RENDERED RULES_FILE OUT   the PrometheusRule's spec, written to OUT
                                   for promtool; with default values it must be
                                   the rules file itself (what promtool tests)
  crds   RENDERED                  what kubeconform skips (no schema shipped for
                                   KEDA / prometheus-operator kinds) checked here
                                   against the other rendered objects
  args   RENDERED                  print each container's args, one JSON object a line
  compose FILE                     the same for the services of docker-compose.yml
                                   that run the tributary image
  toml   RENDERED                  every *.toml of a ConfigMap parses, and each
                                   connector's file has its connector's section
"""
import json
import sys

import yaml


def load(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def fail(msg):
    print(f"check-deploy: {msg}", file=sys.stderr)
    sys.exit(1)


def by_kind(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def rules(rendered, rules_file, out, verbatim):
    found = by_kind(load(rendered), "PrometheusRule")
    if len(found) != 1:
        fail(f"{rendered}: expected one PrometheusRule, found {len(found)}")
    spec = found[0]["spec"]
    with open(rules_file) as f:
        source = yaml.safe_load(f)
    if verbatim == "verbatim" and spec != source:
        fail(f"{rendered}: the PrometheusRule's spec differs from {rules_file}")
    alerts = {r["alert"] for g in spec["groups"] for r in g["rules"] if "alert" in r}
    for g in spec["groups"]:
        for r in g["rules"]:
            ann = r.get("annotations", {})
            for key in ("summary", "description", "runbook_url"):
                if not ann.get(key):
                    fail(f"alert {r.get('alert')}: no {key} annotation")
    with open(out, "w") as f:
        yaml.safe_dump(spec, f, sort_keys=False)
    print(f"PrometheusRule: {len(alerts)} alerts: {', '.join(sorted(alerts))}")


def crds(rendered):
    docs = load(rendered)
    deployments = {d["metadata"]["name"]: d for d in by_kind(docs, "Deployment")}
    services = by_kind(docs, "Service")
    for so in by_kind(docs, "ScaledObject"):
        if so.get("apiVersion") != "keda.sh/v1alpha1":
            fail(f"ScaledObject {so['metadata']['name']}: apiVersion {so.get('apiVersion')}")
        spec = so["spec"]
        target = spec["scaleTargetRef"]["name"]
        if target not in deployments:
            fail(f"ScaledObject targets {target}, which the chart does not render")
        if "replicas" in deployments[target]["spec"]:
            fail(f"Deployment {target} sets replicas while KEDA scales it")
        if int(spec.get("minReplicaCount", 0)) < 1:
            fail("ScaledObject minReplicaCount < 1: the indexer could be scaled to zero")
        for t in spec["triggers"]:
            if t["type"] != "kafka":
                fail(f"ScaledObject trigger {t['type']}")
            md = t["metadata"]
            for key in ("bootstrapServers", "consumerGroup", "topic", "lagThreshold"):
                if not isinstance(md.get(key), str) or not md[key]:
                    fail(f"ScaledObject kafka trigger: {key} must be a non-empty string")
        print(f"ScaledObject {so['metadata']['name']}: targets Deployment {target}, min {spec['minReplicaCount']}")
    for sm in by_kind(docs, "ServiceMonitor"):
        if sm.get("apiVersion") != "monitoring.coreos.com/v1":
            fail(f"ServiceMonitor: apiVersion {sm.get('apiVersion')}")
        sel = sm["spec"]["selector"]["matchLabels"]
        matched = [s for s in services if sel.items() <= s["metadata"]["labels"].items()]
        if not matched:
            fail(f"ServiceMonitor {sm['metadata']['name']} selects no rendered Service")
        ports = {p["name"] for s in matched for p in s["spec"]["ports"]}
        for ep in sm["spec"]["endpoints"]:
            if ep["port"] not in ports:
                fail(f"ServiceMonitor endpoint port {ep['port']} is not a port of {[s['metadata']['name'] for s in matched]}")
        job = matched[0]["metadata"]["labels"].get(sm["spec"].get("jobLabel", ""), matched[0]["metadata"]["name"])
        if "tributary" not in job:
            fail(f"ServiceMonitor job label {job!r} does not match the IndexerDown alert's job=~\".*tributary.*\"")
        print(f"ServiceMonitor {sm['metadata']['name']}: selects Service {matched[0]['metadata']['name']}, job {job}")


def pod_specs(doc):
    kind = doc.get("kind")
    if kind == "CronJob":
        yield doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    elif kind in ("Job", "Deployment", "StatefulSet", "DaemonSet"):
        yield doc["spec"]["template"]["spec"]


def args(rendered):
    for doc in load(rendered):
        for spec in pod_specs(doc):
            for c in spec.get("initContainers", []) + spec["containers"]:
                if "command" in c:
                    fail(f"{doc['kind']} {doc['metadata']['name']}: container {c['name']} overrides the entrypoint (tributary)")
                print(json.dumps({"where": f"{doc['kind']} {doc['metadata']['name']}", "args": c.get("args", [])}))


def compose(path):
    with open(path) as f:
        services = yaml.safe_load(f)["services"]
    for name, svc in services.items():
        if svc.get("image", "").startswith("tributary:") and "command" in svc:
            print(json.dumps({"where": f"compose service {name}", "args": svc["command"]}))


def toml(rendered):
    import tomllib

    n = 0
    for cm in by_kind(load(rendered), "ConfigMap"):
        for key, text in cm.get("data", {}).items():
            if not key.endswith(".toml"):
                continue
            try:
                parsed = tomllib.loads(text)
            except tomllib.TOMLDecodeError as e:
                fail(f"ConfigMap {cm['metadata']['name']} {key}: not TOML: {e}")
            if key.startswith("connector-"):
                kind = key.split("-")[1]
                if "instance" not in parsed.get(kind, {}):
                    fail(f"ConfigMap {cm['metadata']['name']} {key}: no [{kind}] instance")
            n += 1
    if n == 0:
        fail(f"{rendered}: no config file in any ConfigMap")
    print(f"{n} config files parse as TOML")


if __name__ == "__main__":
    cmd, rest = sys.argv[1], sys.argv[2:]
    {"rules": rules, "crds": crds, "args": args, "compose": compose, "toml": toml}[cmd](*rest)
