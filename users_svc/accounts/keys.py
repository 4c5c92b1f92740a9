"""The RS256 signing key pair: made once by `manage.py jwt_keys`, then read; and its public JWK for the JWKS."""

import base64
import hashlib
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def _write_file(*, path: Path, data: bytes, mode: int) -> Path:
    """A complete temporary file next to `path` (same filesystem, so it can be linked or renamed)."""
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(temp_name, mode)
    return Path(temp_name)


def _private_key_create(path: Path) -> None:
    """Publish a new private key unless another process got there first.

    os.link() fails when the target exists, so concurrent first starts all end up with the one key
    that won, and a reader never sees a half-written file.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    temp = _write_file(path=path, data=pem, mode=0o600)
    try:
        os.link(temp, path)
    except FileExistsError:
        pass
    finally:
        temp.unlink()


def signing_keys_ensure(*, private_path: Path | str, public_path: Path | str) -> tuple[str, str]:
    """(private PEM, public PEM), generating an RSA 2048 pair when the private key file is missing.

    The public key is always derived from the private one, and its file is rewritten when absent or stale.
    """
    private_path, public_path = Path(private_path), Path(public_path)
    private_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    public_path.parent.mkdir(parents=True, exist_ok=True)
    if not private_path.is_file():
        _private_key_create(private_path)
    private_pem = private_path.read_text()
    private_key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    public_pem = (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    if not public_path.is_file() or public_path.read_text() != public_pem:
        os.replace(_write_file(path=public_path, data=public_pem.encode(), mode=0o644), public_path)
    return private_pem, public_pem


def jwk_thumbprint(jwk: dict) -> str:
    """RFC 7638 thumbprint of an RSA JWK: SHA-256 of the required members in canonical JSON, base64url."""
    canonical = json.dumps({"e": jwk["e"], "kty": jwk["kty"], "n": jwk["n"]}, separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@lru_cache(maxsize=4)
def public_jwk(public_pem: str) -> dict:
    """The public key as an entry of the JWKS, its `kid` being its RFC 7638 thumbprint."""
    public_key = serialization.load_pem_public_key(public_pem.encode())
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(public_key, as_dict=True)
    return {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": jwk_thumbprint(jwk), "n": jwk["n"], "e": jwk["e"]}
