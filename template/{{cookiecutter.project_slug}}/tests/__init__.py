"""Tests of the project: pytest, CPU only, no network (see conftest.py)."""
