"""Pure matching engine (no Django): filled by the dispatch issue."""
