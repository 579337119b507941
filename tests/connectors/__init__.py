"""Tests of the connectors package (no Django)."""
