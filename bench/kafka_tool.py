#!/usr/bin/env python3
"""Bench helper for the stack's Kafka, which is installed from Maven jars
without Kafka's command-line tools:
    kafka_tool.py publish BROKERS TOPIC FILE    (FILE: key<TAB>value lines)
    kafka_tool.py delete BROKERS TOPIC...       (missing topics are fine)
    kafka_tool.py partitions BROKERS TOPIC      (prints the topic's partition count)"""
import sys

from confluent_kafka import Producer
from kafka import KafkaConsumer
from kafka.admin import KafkaAdminClient


def publish(brokers, topic, path):
    # confluent-kafka (librdkafka): kafka-python needed ~5 minutes for 100k
    # messages of ~5 KB here, this takes seconds.
    failed = []

    def delivered(err, _msg):
        if err is not None:
            failed.append(err)

    producer = Producer({"bootstrap.servers": brokers, "acks": "all", "linger.ms": 20,
                         "enable.idempotence": True})
    sent = 0
    with open(path, "rb") as f:
        for line in f:
            key, _, value = line.rstrip(b"\n").partition(b"\t")
            while True:
                try:
                    producer.produce(topic, key=key, value=value, on_delivery=delivered)
                    break
                except BufferError:
                    producer.poll(0.1)  # the local queue is full: let it drain
            producer.poll(0)
            sent += 1
    left = producer.flush(60)
    if failed or left:
        sys.exit(f"publishing to {topic} failed: {len(failed)} errors ({failed[:1]}), {left} unsent")
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
