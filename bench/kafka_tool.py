#!/usr/bin/env python3
"""Bench helper for the stack's Kafka, which is installed from Maven jars
without Kafka's command-line tools:
    kafka_tool.py publish BROKERS TOPIC FILE    (FILE: key<TAB>value lines)
    kafka_tool.py delete BROKERS TOPIC...       (missing topics are fine)
    kafka_tool.py partitions BROKERS TOPIC      (prints the topic's partition count)"""
import sys

from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient


def publish(brokers, topic, path):
    producer = KafkaProducer(bootstrap_servers=brokers, acks="all", linger_ms=20,
                             batch_size=1_000_000, max_request_size=10_000_000)
    sent = 0
    with open(path, "rb") as f:
        for line in f:
            key, _, value = line.rstrip(b"\n").partition(b"\t")
            producer.send(topic, key=key, value=value)
            sent += 1
    producer.flush()
    producer.close()
    print(f"published {sent} messages to {topic}", file=sys.stderr)


def delete(brokers, topics):
    admin = KafkaAdminClient(bootstrap_servers=brokers)
    existing = set(admin.list_topics())
    gone = [t for t in topics if t in existing]
    if gone:
        admin.delete_topics(gone)
    admin.close()


def partitions(brokers, topic):
    consumer = KafkaConsumer(bootstrap_servers=brokers)
    found = consumer.partitions_for_topic(topic)
    consumer.close()
    if not found:
        sys.exit(f"topic {topic} not found")
    print(len(found))


if __name__ == "__main__":
    command, brokers = sys.argv[1], sys.argv[2]
    if command == "publish":
        publish(brokers, sys.argv[3], sys.argv[4])
    elif command == "partitions":
        partitions(brokers, sys.argv[3])
    elif command == "delete":
        delete(brokers, sys.argv[3:])
    else:
        sys.exit(__doc__)
