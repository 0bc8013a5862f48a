"""Fault drills against the real service: `make chaos` (about 5 minutes), `--smoke` in `make test`."""
