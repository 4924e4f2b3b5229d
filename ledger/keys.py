"""The keys of the ledger: the ship's signing key, the institutions' recipient keys, receipt keys.

Three roles, two kinds of key:
- "ship": the ship's Ed25519 key; it signs every chain head and every bundle,
  so the ministry knows where an entry comes from (encryption alone hides the
  sender).
- "recipient": an institution's HPKE key pair (ML-KEM-768 + X25519 by
  default, plain X25519 as the fallback); the ship holds only the public half,
  so it can seal entries but never read them back.
- "receipt": the Ed25519 key a receiver signs its receipts with.

Every key has a key id (the first 8 bytes of a hash of the algorithm and the
raw public key, in hex) written into entries, and a fingerprint (the first 16
bytes of that hash, as eight groups of four hex digits) that two people can
read to each other over the phone before trusting an imported file.

Private key files are PEM (PKCS#8) under a small text header; a passphrase,
when given, is first stretched with scrypt (the PKCS#8 wrapping on its own
only runs 2048 PBKDF2 rounds), and the stretched value protects the PEM.
Files are written owner-only and atomically.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography.hazmat.primitives import hpke, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, mlkem, x25519

from ledger.errors import LedgerError
from ledger.files import atomic_write

ED25519 = "ed25519"
X25519 = "x25519"
MLKEM768_X25519 = "mlkem768-x25519"
RECIPIENT_ALGORITHMS = (MLKEM768_X25519, X25519)
# Measured in bench/ledger.py: the hybrid costs a fraction of a millisecond and
# about 1.1 KB per segment, so the post-quantum scheme is the default.
DEFAULT_RECIPIENT_ALGORITHM = MLKEM768_X25519

ROLES = {"ship": (ED25519,), "receipt": (ED25519,), "recipient": RECIPIENT_ALGORITHMS}
RAW_LENGTHS = {ED25519: 32, X25519: 32, MLKEM768_X25519: 1184 + 32}

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
_NAME_RE = re.compile(r"^[^\x00-\x1f\x7f]{1,80}$")
_PEM_RE = re.compile(rb"-----BEGIN ([A-Z ]+)-----\r?\n.*?-----END \1-----", re.DOTALL)


def key_digest(algorithm: str, raw: bytes) -> bytes:
    return hashlib.sha256(b"PIAS-KEY-1\x00" + algorithm.encode() + b"\x00" + raw).digest()


def key_id_of(algorithm: str, raw: bytes) -> str:
    return key_digest(algorithm, raw)[:8].hex()


def fingerprint_of(algorithm: str, raw: bytes) -> str:
    hexdigits = key_digest(algorithm, raw)[:16].hex().upper()
    return " ".join(hexdigits[i : i + 4] for i in range(0, len(hexdigits), 4))


@dataclass(frozen=True)
class PublicKey:
    """The public half of any ledger key, as it travels in files and registries."""

    role: str
    name: str
    algorithm: str
    raw: bytes

    @cached_property
    def key_id(self) -> str:
        return key_id_of(self.algorithm, self.raw)

    @cached_property
    def fingerprint(self) -> str:
        return fingerprint_of(self.algorithm, self.raw)

    def verify(self, signature: bytes, message: bytes) -> bool:
        """True when an Ed25519 signature over message was made by this key."""
        if self.algorithm != ED25519:
            return False
        try:
            ed25519.Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
        except Exception:
            return False
        return True

    def hpke_key(self) -> x25519.X25519PublicKey | hpke.MLKEM768X25519PublicKey:
        if self.algorithm == X25519:
            return x25519.X25519PublicKey.from_public_bytes(self.raw)
        if self.algorithm == MLKEM768_X25519:
            return hpke.MLKEM768X25519PublicKey(
                mlkem.MLKEM768PublicKey.from_public_bytes(self.raw[:1184]),
                x25519.X25519PublicKey.from_public_bytes(self.raw[1184:]),
            )
        raise ValueError(f"{self.algorithm} is not an encryption key")

    def to_text(self) -> str:
        return (
            "# PIAS public key. Before trusting it, compare the fingerprint by phone\n"
            "# with the person who made it.\n"
            f"role: {self.role}\n"
            f"name: {self.name}\n"
            f"algorithm: {self.algorithm}\n"
            f"key-id: {self.key_id}\n"
            f"fingerprint: {self.fingerprint}\n"
            f"public: {base64.b64encode(self.raw).decode()}\n"
        )

    @classmethod
    def parse(cls, text: str, source: str = "key") -> PublicKey:
        fields = _fields(text, source)
        role, algorithm, raw = _role_algorithm_raw(fields, source)
        pub = cls(role=role, name=_name(fields, source), algorithm=algorithm, raw=raw)
        _check_stated_ids(fields, pub, source)
        return pub


class SigningKey:
    """An Ed25519 private key: the ship's, or a receiver's for its receipts."""

    def __init__(self, role: str, name: str, private: ed25519.Ed25519PrivateKey) -> None:
        self.role = role
        self.name = name
        self.private = private
        raw = private.public_key().public_bytes_raw()
        self.public = PublicKey(role=role, name=name, algorithm=ED25519, raw=raw)
        self.key_id = self.public.key_id

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)

    def pem_blocks(self, encryption: serialization.KeySerializationEncryption) -> list[bytes]:
        return [self.private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)]


class RecipientKey:
    """An institution's private HPKE key: what opens the data keys of the entries it may read."""

    def __init__(
        self,
        name: str,
        algorithm: str,
        x_key: x25519.X25519PrivateKey,
        ml_key: mlkem.MLKEM768PrivateKey | None = None,
    ) -> None:
        self.role = "recipient"
        self.name = name
        self.algorithm = algorithm
        self.x_key = x_key
        self.ml_key = ml_key
        raw = x_key.public_key().public_bytes_raw()
        if algorithm == MLKEM768_X25519:
            if ml_key is None:
                raise ValueError("the hybrid key needs its ML-KEM-768 half")
            raw = ml_key.public_key().public_bytes_raw() + raw
        self.public = PublicKey(role="recipient", name=name, algorithm=algorithm, raw=raw)
        self.key_id = self.public.key_id

    def hpke_key(self) -> x25519.X25519PrivateKey | hpke.MLKEM768X25519PrivateKey:
        if self.algorithm == MLKEM768_X25519:
            return hpke.MLKEM768X25519PrivateKey(self.ml_key, self.x_key)
        return self.x_key

    def pem_blocks(self, encryption: serialization.KeySerializationEncryption) -> list[bytes]:
        fmt = (serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
        blocks = [] if self.ml_key is None else [self.ml_key.private_bytes(*fmt)]
        return [*blocks, self.x_key.private_bytes(*fmt)]


def generate_signing_key(name: str, role: str = "ship") -> SigningKey:
    if role not in ("ship", "receipt"):
        raise ValueError(f"signing keys are for ships and receipts, not {role!r}")
    return SigningKey(role, _clean_name(name), ed25519.Ed25519PrivateKey.generate())


def generate_recipient_key(name: str, algorithm: str = DEFAULT_RECIPIENT_ALGORITHM) -> RecipientKey:
    if algorithm not in RECIPIENT_ALGORITHMS:
        raise ValueError(f"unknown recipient algorithm {algorithm!r}")
    ml = mlkem.MLKEM768PrivateKey.generate() if algorithm == MLKEM768_X25519 else None
    return RecipientKey(_clean_name(name), algorithm, x25519.X25519PrivateKey.generate(), ml)


def recipient_key_from_bytes(name: str, algorithm: str, secret: bytes) -> RecipientKey:
    """A recipient key from fixed secret bytes (ML-KEM seed then X25519 scalar): for test vectors."""
    if algorithm == MLKEM768_X25519:
        if len(secret) != 64 + 32:
            raise ValueError("the hybrid key needs 96 secret bytes")
        return RecipientKey(
            name, algorithm, x25519.X25519PrivateKey.from_private_bytes(secret[64:]),
            mlkem.MLKEM768PrivateKey.from_seed_bytes(secret[:64]),
        )
    return RecipientKey(name, X25519, x25519.X25519PrivateKey.from_private_bytes(secret))


def signing_key_from_bytes(name: str, secret: bytes, role: str = "ship") -> SigningKey:
    return SigningKey(role, name, ed25519.Ed25519PrivateKey.from_private_bytes(secret))


# --- files ---------------------------------------------------------------------------


def save_private(key: SigningKey | RecipientKey, path: Path, passphrase: str | None = None) -> None:
    """Write a private key owner-only (0600); never over an existing key."""
    path = Path(path)
    if path.exists():
        raise LedgerError("key_exists", path=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    if passphrase:
        salt = os.urandom(16)
        protection = f"scrypt n={SCRYPT_N} r={SCRYPT_R} p={SCRYPT_P} salt={base64.b64encode(salt).decode()}"
        encryption: serialization.KeySerializationEncryption = serialization.BestAvailableEncryption(
            _stretch(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        )
    else:
        protection = "none"
        encryption = serialization.NoEncryption()
    header = (
        "# PIAS private key: keep it secret; never copy it off this machine unencrypted.\n"
        f"role: {key.role}\n"
        f"name: {key.name}\n"
        f"algorithm: {key.public.algorithm}\n"
        f"key-id: {key.key_id}\n"
        f"protection: {protection}\n"
    ).encode()
    atomic_write(path, header + b"".join(key.pem_blocks(encryption)), mode=0o600)


def load_private(path: Path, passphrase: str | None = None) -> SigningKey | RecipientKey:
    path = Path(path)
    data = _read(path)
    source = str(path)
    head, _, _ = data.partition(b"-----BEGIN")
    try:
        fields = _fields(head.decode("utf-8"), source)
    except UnicodeDecodeError:
        raise LedgerError("key_file_malformed", path=source, reason="not UTF-8 text") from None
    role, algorithm = fields.get("role", ""), fields.get("algorithm", "")
    if role not in ROLES or algorithm not in ROLES[role]:
        raise LedgerError("key_file_malformed", path=source, reason="unknown role or algorithm")
    name = _name(fields, source)
    password = _password(fields.get("protection", "none"), passphrase, source)
    blocks = [m.group(0) for m in _PEM_RE.finditer(data)]
    want = 2 if algorithm == MLKEM768_X25519 else 1
    if len(blocks) != want:
        raise LedgerError("key_file_malformed", path=source, reason=f"expected {want} PEM block(s)")
    try:
        loaded = [serialization.load_pem_private_key(b, password=password) for b in blocks]
    except (ValueError, TypeError):
        if password is not None:
            raise LedgerError("key_passphrase_wrong", path=source) from None
        raise LedgerError("key_file_malformed", path=source, reason="unreadable PEM") from None
    key: SigningKey | RecipientKey
    if algorithm == ED25519:
        if not isinstance(loaded[0], ed25519.Ed25519PrivateKey):
            raise LedgerError("key_file_malformed", path=source, reason="the PEM is not an Ed25519 key")
        key = SigningKey(role, name, loaded[0])
    elif algorithm == X25519:
        if not isinstance(loaded[0], x25519.X25519PrivateKey):
            raise LedgerError("key_file_malformed", path=source, reason="the PEM is not an X25519 key")
        key = RecipientKey(name, X25519, loaded[0])
    else:
        ml, xk = loaded
        if not isinstance(ml, mlkem.MLKEM768PrivateKey) or not isinstance(xk, x25519.X25519PrivateKey):
            raise LedgerError("key_file_malformed", path=source, reason="expected ML-KEM-768 then X25519")
        key = RecipientKey(name, MLKEM768_X25519, xk, ml)
    stated = fields.get("key-id")
    if stated is not None and stated != key.key_id:
        raise LedgerError("key_file_altered", path=source)
    return key


def load_signing_key(path: Path, passphrase: str | None = None, role: str = "ship") -> SigningKey:
    key = load_private(path, passphrase)
    if not isinstance(key, SigningKey) or key.role != role:
        raise LedgerError("key_wrong_role", path=str(path), got=key.role, want=role)
    return key


def load_recipient_key(path: Path, passphrase: str | None = None) -> RecipientKey:
    key = load_private(path, passphrase)
    if not isinstance(key, RecipientKey):
        raise LedgerError("key_wrong_role", path=str(path), got=key.role, want="recipient")
    return key


def is_protected(path: Path) -> bool:
    head, _, _ = _read(Path(path)).partition(b"-----BEGIN")
    return b"protection: scrypt" in head


def save_public(pub: PublicKey, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, pub.to_text().encode(), mode=0o644)


def load_public(path: Path, role: str | None = None) -> PublicKey:
    path = Path(path)
    try:
        text = _read(path).decode("utf-8")
    except UnicodeDecodeError:
        raise LedgerError("key_file_malformed", path=str(path), reason="not UTF-8 text") from None
    pub = PublicKey.parse(text, str(path))
    if role is not None and pub.role != role:
        raise LedgerError("key_wrong_role", path=str(path), got=pub.role, want=role)
    return pub


def load_ship_registry(path: Path) -> list[PublicKey]:
    """Ship public keys from one .pub file or every .pub file in a folder."""
    path = Path(path)
    files = sorted(path.glob("*.pub")) if path.is_dir() else [path]
    return [load_public(f, role="ship") for f in files]


# --- helpers -------------------------------------------------------------------------


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise LedgerError("key_file_missing", path=str(path)) from None
    except OSError as exc:
        raise LedgerError("key_file_unreadable", path=str(path), reason=exc.strerror or str(exc)) from None


def _fields(text: str, source: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise LedgerError("key_file_malformed", path=source, reason=f"line without 'field: value': {line[:40]!r}")
        key = key.strip().lower()
        if key in fields:
            raise LedgerError("key_file_malformed", path=source, reason=f"field {key!r} given twice")
        fields[key] = value.strip()
    return fields


def _name(fields: dict[str, str], source: str) -> str:
    name = fields.get("name", "")
    if not _NAME_RE.match(name):
        raise LedgerError("key_file_malformed", path=source, reason="missing or unprintable name")
    return name


def _clean_name(name: str) -> str:
    name = name.strip()
    if not _NAME_RE.match(name):
        raise ValueError(f"a key name must be 1 to 80 printable characters (got {name!r})")
    return name


def _role_algorithm_raw(fields: dict[str, str], source: str) -> tuple[str, str, bytes]:
    role, algorithm = fields.get("role", ""), fields.get("algorithm", "")
    if role not in ROLES:
        raise LedgerError("key_file_malformed", path=source, reason=f"unknown role {role!r}")
    if algorithm not in ROLES[role]:
        raise LedgerError("key_file_malformed", path=source, reason=f"algorithm {algorithm!r} for a {role} key")
    try:
        raw = base64.b64decode(fields.get("public", ""), validate=True)
    except (binascii.Error, ValueError):
        raise LedgerError("key_file_malformed", path=source, reason="the public key is not base64") from None
    if len(raw) != RAW_LENGTHS[algorithm]:
        raise LedgerError("key_file_malformed", path=source, reason=f"the public key has {len(raw)} bytes")
    try:
        PublicKey(role, "x", algorithm, raw).hpke_key() if role == "recipient" else (
            ed25519.Ed25519PublicKey.from_public_bytes(raw)
        )
    except ValueError:
        raise LedgerError("key_file_malformed", path=source, reason="not a valid public key") from None
    return role, algorithm, raw


def _check_stated_ids(fields: dict[str, str], pub: PublicKey, source: str) -> None:
    stated_id = fields.get("key-id")
    stated_fp = fields.get("fingerprint")
    if stated_id is not None and stated_id.lower() != pub.key_id:
        raise LedgerError("key_file_altered", path=source)
    if stated_fp is not None and stated_fp.replace(" ", "").upper() != pub.fingerprint.replace(" ", ""):
        raise LedgerError("key_file_altered", path=source)


def _stretch(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    derived = hashlib.scrypt(passphrase.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=2**27, dklen=32)
    return derived.hex().encode()


def _password(protection: str, passphrase: str | None, source: str) -> bytes | None:
    if protection == "none":
        return None
    parts = dict(p.split("=", 1) for p in protection.split()[1:] if "=" in p)
    if not protection.startswith("scrypt ") or not {"n", "r", "p", "salt"} <= parts.keys():
        raise LedgerError("key_file_malformed", path=source, reason=f"unknown protection {protection[:30]!r}")
    if not passphrase:
        raise LedgerError("key_passphrase_needed", path=source)
    try:
        n, r, p = int(parts["n"]), int(parts["r"]), int(parts["p"])
        salt = base64.b64decode(parts["salt"], validate=True)
    except (ValueError, binascii.Error):
        raise LedgerError("key_file_malformed", path=source, reason="bad scrypt parameters") from None
    if not (2**10 <= n <= 2**20 and 1 <= r <= 32 and 1 <= p <= 16):
        raise LedgerError("key_file_malformed", path=source, reason="scrypt parameters out of range")
    return _stretch(passphrase, salt, n, r, p)
