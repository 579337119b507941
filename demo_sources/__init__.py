"""Simulated systems of record for the demo: a REST CRM, a REST support desk, a SQL billing
database and a web-shop export, seeded from one synthetic population (``linkage.synthetic``).

Stand-alone on purpose: nothing here imports Django or the hub, so the systems run as their own
process beside it and the hub reaches them only through its connectors, as it would real ones.
"""
