"""Adapter around the pure matching engine: load → build candidates → solve → persist through orders actions."""
