#!/usr/bin/env bash
# The whole local stack: Kafka, PostgreSQL, the embedding model.
#   stack.sh up | down | status
# Prints shell exports (KAFKA_BROKERS, DATABASE_URL, TRIBUTARY_MODEL_DIR,
# ORT_DYLIB_PATH) on
# `env` so Makefile targets and tests agree on where things are.
source "$(dirname "$0")/common.sh"
here=$(dirname "$0")
case "${1:-}" in
    up) "$here/postgres.sh" up; "$here/kafka.sh" up; "$here/model.sh" up ;;
    down) "$here/kafka.sh" down; "$here/postgres.sh" down ;;
    status) rc=0; "$here/kafka.sh" status || rc=1; "$here/postgres.sh" status || rc=1; "$here/model.sh" status || rc=1; exit $rc ;;
    env)
        echo "export KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
        echo "export DATABASE_URL=$("$here/postgres.sh" url)"
        echo "export TRIBUTARY_MODEL_DIR=$MODEL_HOME"
        echo "export ORT_DYLIB_PATH=$("$here/model.sh" ort-path)"
        ;;
    *) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
esac
