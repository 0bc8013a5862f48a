"""The benchmark of the booking service: `make bench` (full) and `python -m bench.run --smoke`.

Everything runs on a fresh embedded PostgreSQL in a temporary directory; the service under test
is the real `booking-service serve` process, driven from a separate load-generator process.
"""
