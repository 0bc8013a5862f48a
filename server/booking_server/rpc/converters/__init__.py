"""Converters between generated proto messages and domain values; no logic beyond mapping."""
