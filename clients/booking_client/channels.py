"""One long-lived channel per target, shared by the whole process.

Channels are expensive (TCP + HTTP/2 connection, name resolution) and multiplex any number of
concurrent calls, so creating one per request would add a handshake to every directory lookup.
"""

from __future__ import annotations

import threading

import grpc

_MAX_MESSAGE_BYTES = 16 * 1024 * 1024

CHANNEL_OPTIONS: tuple[tuple[str, int], ...] = (
    ("grpc.max_send_message_length", _MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),
    # Pings find a dead connection (a restarted peer, a NAT that forgot us) before a call
    # waits on it. The server must allow pings this often, or it answers too_many_pings and
    # grpc core backs the interval off by itself.
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    # The default reconnect backoff grows to 120 s; a restarted directory should be usable
    # again within seconds, not minutes.
    ("grpc.max_reconnect_backoff_ms", 5_000),
    # Our client retries with its own budget-aware policy; two layers would multiply attempts.
    ("grpc.enable_retries", 0),
)

_lock = threading.Lock()
_channels: dict[str, grpc.Channel] = {}


def get_channel(target: str) -> grpc.Channel:
    """Return the process-wide insecure channel for ``target``, creating it on first use."""
    with _lock:
        channel = _channels.get(target)
        if channel is None:
            channel = grpc.insecure_channel(target, options=CHANNEL_OPTIONS)
            _channels[target] = channel
        return channel


def close_all_channels() -> None:
    """Close every cached channel (process shutdown, test teardown); later calls make new ones."""
    with _lock:
        channels = list(_channels.values())
        _channels.clear()
    # Closed outside the lock: close() cancels in-flight calls and may take a moment.
    for channel in channels:
        channel.close()


def close_channel(target: str) -> None:
    """Close the cached channel for one target (its owner is shutting down); a no-op if none."""
    with _lock:
        channel = _channels.pop(target, None)
    if channel is not None:
        channel.close()
