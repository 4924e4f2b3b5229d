"""Errors the ledger raises, as codes with parameters.

The ledger knows nothing of the languages the ship speaks: each error carries
a stable code and its parameters, so the command line and the screens can say
it in Spanish or English from their own catalogues, while str() gives a plain
English line for logs and tests.
"""

from __future__ import annotations

from typing import Any

# English wording, used by str(); the ship's catalogues hold the translations
# under the same codes.
MESSAGES: dict[str, str] = {
    "key_file_missing": "{path}: key file does not exist",
    "key_file_unreadable": "{path}: key file cannot be read ({reason})",
    "key_file_malformed": "{path}: not a PIAS key file ({reason})",
    "key_file_altered": "{path}: the key does not match the fingerprint written in the file (altered?)",
    "key_wrong_role": "{path}: holds a {got} key, but a {want} key is needed",
    "key_passphrase_needed": "{path}: the key is protected by a passphrase; set PIAS_KEY_PASSPHRASE",
    "key_passphrase_wrong": "{path}: wrong passphrase for this key",
    "key_exists": "{path}: a key already exists there; it is not overwritten",
    "ledger_not_in_transaction": "the ledger appends only inside the transaction of the change it records",
    "ledger_reserved_kind": "entry kind {kind!r} is reserved for the ledger itself",
    "ledger_bad_kind": "entry kind {kind!r} must be non-empty printable text without separators",
    "ledger_naive_time": "entry times must be timezone-aware",
    "ledger_other_ship": "this ledger belongs to ship {owner}, not {ship}",
    "ledger_key_retired": "the signing key {key} was replaced by {current}; restart with the current key",
    "ledger_unknown_entry": "there is no entry {seq} to amend",
    "ledger_amends_structure": "entry {seq} is a ledger entry ({kind}) and cannot be amended",
    "ledger_rotation_same_key": "the new signing key is the key already in use",
    "bad_fingerprint": "{text!r} is not a head fingerprint like 1234:9F3C-A2B1-77D0-4E15",
    "ledger_does_not_verify": "the ledger does not verify, so nothing is offloaded: {problem}",
    "offload_bad_url": "{url} is not an http:// address of a receiver",
}


class LedgerError(Exception):
    """Something the ledger refuses or cannot do; code + params say what."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(code)

    def __str__(self) -> str:
        template = MESSAGES.get(self.code, self.code)
        try:
            return template.format(**self.params)
        except (KeyError, IndexError, ValueError):
            return f"{self.code} {self.params}"
