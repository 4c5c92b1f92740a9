"""Where an order's time goes, hop by hop, from the timestamps the saga leaves in the databases.

For every message of the step's orders (found by their correlation id, the request id the load
generator sent): created_at -> sent_at in the producer's outbox (waiting for the relay or the
after-commit publish), sent_at -> processed_at in the consumer's processed-message table (broker,
queue, worker pick-up), processed_at -> created_at of the next message the consumer wrote for the same
order (the handler's work inside its transaction). Message types and their consumers are discovered
from the tables, not listed here, so renamed or removed messages need no change.
"""

from collections import defaultdict

import psycopg

from .stats import latency_summary
from .target import SERVICES, Target

OUTBOX_SQL = """
    SELECT message_id::text, type, created_at, sent_at, expects_receipt, attempts,
           envelope->'payload'->>'message_id', envelope->>'correlation_id', last_error <> ''
    FROM service_kit_outboxmessage WHERE envelope->>'correlation_id' LIKE %s
"""
PROCESSED_SQL = (
    "SELECT message_id::text, processed_at FROM service_kit_processedmessage WHERE message_id = ANY(%s::uuid[])"
)


def collect(target: Target, prefix: str) -> dict:
    """Per message type: how many, producer and consumer, and the median and p99 of each hop (ms)."""
    outbox: dict[str, list] = {}
    for service in SERVICES:
        with psycopg.connect(target.database_urls[service], autocommit=True) as conn:
            outbox[service] = conn.execute(OUTBOX_SQL, (prefix + "%",)).fetchall()
    ids = [row[0] for rows in outbox.values() for row in rows]
    processed: dict[str, tuple[str, float]] = {}
    for service in SERVICES:
        with psycopg.connect(target.database_urls[service], autocommit=True) as conn:
            for message_id, at in conn.execute(PROCESSED_SQL, (ids,)).fetchall():
                processed[message_id] = (service, at.timestamp())

    # Per consumer service: its receipts by the message they answer, and its other messages by correlation.
    receipt_of: dict[str, float] = {}
    caused: dict[tuple[str, str], list[float]] = defaultdict(list)
    correlation: dict[str, str] = {}
    for service in SERVICES:
        for message_id, _type, created, _sent, expects_receipt, _attempts, answers, corr, _failed in outbox[service]:
            correlation[message_id] = corr
            if expects_receipt:
                caused[(service, corr)].append(created.timestamp())
            elif answers:
                receipt_of[answers] = created.timestamp()
    for times in caused.values():
        times.sort()

    hops: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    meta: dict[str, dict] = {}
    for producer, rows in outbox.items():
        for message_id, type_, created, sent, _expects, attempts, _answers, _corr, failed in rows:
            info = meta.setdefault(
                type_, {"producer": producer, "consumer": None, "n": 0, "sent_again": 0, "publish_failed": 0}
            )
            info["n"] += 1
            # A row's attempts count its publishes, a failed one too (the broker down): its extra attempts are
            # `publish_failed`; a row that never failed went again as a copy of a delivered message.
            info["publish_failed" if failed else "sent_again"] += max(0, attempts - 1)
            c = created.timestamp()
            if sent is not None:
                hops[type_]["outbox_wait"].append((sent.timestamp() - c) * 1000)
            if message_id not in processed:
                continue
            consumer, p = processed[message_id]
            info["consumer"] = consumer
            if sent is not None and attempts <= 1:
                hops[type_]["to_consumer"].append((p - sent.timestamp()) * 1000)
            hops[type_]["created_to_processed"].append((p - c) * 1000)
            # The next message: the consumer's first own message for the order written at or after
            # processing, and before this message's receipt (which is sent after the commit).
            limit = receipt_of.get(message_id, float("inf"))
            after = [t for t in caused.get((consumer, correlation[message_id]), []) if p <= t <= limit]
            if after:
                hops[type_]["handler_to_next"].append((after[0] - p) * 1000)
    result = {}
    for type_, info in sorted(meta.items()):
        result[type_] = {
            **info,
            **{
                name: {k: v for k, v in latency_summary(values).items() if k in ("n", "p50", "p99")}
                for name, values in hops[type_].items()
            },
        }
    return result
