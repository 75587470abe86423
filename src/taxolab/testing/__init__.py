"""Test kit shipped with the package: a scripted OpenAI-compatible server and tiny models.

Kept in the package (not only under tests/) because benchmarks use the same
fake teacher with a fixed latency.
"""
