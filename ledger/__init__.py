"""The ship's ledger: append-only, hash-chained, signed with Ed25519, sealed with HPKE for the institutions.

It stores, chains, signs, encrypts, bundles and verifies entries and knows
nothing of the domain they come from: kinds and payloads are whatever the
caller records. Modules: keys (key files and fingerprints), crypto (data keys
and sealing), chain (canonical bytes, hashes, walking a chain), store (its
tables in the caller's database), appender (appending inside the caller's
transaction), verify, bundle, receipts, offload (the ship's side at port),
receiver (HTTP), ingest and central (the ministry's side).
"""
