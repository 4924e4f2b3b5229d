"""Writes ledger_v1.json: fixed keys, fixed plaintexts and the bytes they must give.

Run once, by hand, when the format is first fixed (`python tests/ledger/vectors/make_vectors.py --write`).
HPKE draws a fresh ephemeral key on every encryption, so its vector is an
encapsulation recorded once: the ministry's decryptor must keep opening it
with the fixed recipient key. Everything else is deterministic and is
recomputed by the tests from the inputs, both ways.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ledger import crypto, keys
from ledger.chain import entry_hash, hash_prefix, head_fingerprint, head_message, header_bytes

SHIP = "pias-vector"
OUT = Path(__file__).with_name("ledger_v1.json")


def fixed(n: int, start: int) -> bytes:
    return bytes((start + i) % 256 for i in range(n))


def main() -> None:
    data_key = fixed(32, 0x40)
    hpke = []
    for algorithm, secret in ((keys.MLKEM768_X25519, fixed(96, 1)), (keys.X25519, fixed(32, 0x77))):
        rk = keys.recipient_key_from_bytes("MIDIS", algorithm, secret)
        dk_id = "0011223344556677"
        hpke.append({
            "algorithm": algorithm, "recipient_secret": secret.hex(), "recipient_key_id": rk.key_id,
            "recipient_public": rk.public.raw.hex(), "ship": SHIP, "data_key_id": dk_id,
            "enc": crypto.wrap(data_key, rk.public, SHIP, dk_id).hex(), "data_key": data_key.hex(),
        })
    entries = []
    prev = bytes(32)
    cases = [
        (41, "2026-11-02T14:05:09.123456Z", "health.consultation", None,
         {"citizen": 12, "dni": "41234567", "given_names": "Flor de María", "surnames": "Ñaupari Huamán",
          "notes": "control prenatal", "operator": 4, "stop": 3}),
        (42, "2026-11-02T14:06:00.000000Z", "correction", 41,
         {"amends": 41, "author": "coordinador", "reason": "DNI mal digitado", "fields": {"dni": "41234568"}}),
        (43, "2026-11-02T14:07:00.000001Z", "desk.open", None, {}),
    ]
    dk = crypto.DataKey("8899aabbccddeeff", data_key)
    prefix = hash_prefix(SHIP)
    for seq, at, kind, amends, payload in cases:
        plaintext = crypto.encode_payload(payload)
        header = header_bytes(seq, at, kind, dk.id, amends)
        ciphertext = dk.seal(seq, prefix + header, plaintext)
        digest = entry_hash(prefix, prev, header, ciphertext)
        entries.append({
            "ship": SHIP, "data_key": data_key.hex(), "data_key_id": dk.id, "seq": seq, "at": at, "kind": kind,
            "amends": amends, "payload": payload, "plaintext": plaintext.hex(), "nonce": crypto.entry_nonce(seq).hex(),
            "aad": (prefix + header).hex(), "ciphertext": ciphertext.hex(), "prev_hash": prev.hex(),
            "hash": digest.hex(),
        })
        prev = digest
    signer = keys.signing_key_from_bytes(SHIP, fixed(32, 0x99))
    last = entries[-1]
    message = head_message(SHIP, last["seq"], bytes.fromhex(last["hash"]))
    signing = {
        "secret": fixed(32, 0x99).hex(), "key_id": signer.key_id, "seq": last["seq"], "hash": last["hash"],
        "message": message.hex(), "signature": signer.sign(message).hex(),
        "fingerprint": head_fingerprint(last["seq"], bytes.fromhex(last["hash"])),
    }
    text = json.dumps({"format": "pias-ledger-1", "hpke": hpke, "entries": entries, "signing": signing},
                      ensure_ascii=False, indent=1)
    if "--write" in sys.argv:
        OUT.write_text(text + "\n", encoding="utf-8")
    else:
        print(text)


if __name__ == "__main__":
    main()
