"""The single way an order leaves: validate, journal, send, await the answer, track."""

from ec_core.execution.payload import PAYLOAD_TRANSITIONS, Payload, PayloadStatus

__all__ = ["PAYLOAD_TRANSITIONS", "Payload", "PayloadStatus"]
