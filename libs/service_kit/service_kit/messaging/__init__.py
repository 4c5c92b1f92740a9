"""Messaging between the services, one concept per module.

envelope.py      the Message envelope
contract.py      the written contract (contracts/asyncapi.yaml) and the routing table of its channels
outbox.py        the store: outbox_enqueue, and publish after commit
relay.py         publish what is unsent, redeliver what has no receipt
receipts.py      store, send and receive delivery receipts
consumer.py      the inbox: dedupe, retry, dead letters
dead_letters.py  the messages no retry mends, for an operator to replay
scheduling.py    the table of periodic jobs and the loop that runs them (the relay process)
broker.py        the Redis transport of every Celery app (kombu's, keeping one client per channel)
"""
