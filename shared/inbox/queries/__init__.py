"""The read layer: queries that answer the API, shaped as the models in `schemas`.

Reads only: no write and no event publishing happens here. Every query takes the member and
goes through `inbox.access`, and none scans the table.
"""
