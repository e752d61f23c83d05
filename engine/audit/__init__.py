"""Hashes, run recording, verification, diffs and approvals: the audit side of the ledger."""
