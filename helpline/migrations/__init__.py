"""Alembic's migration scripts, and `models`, which imports every domain's tables for them."""
