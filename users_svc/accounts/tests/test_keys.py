"""The signing key pair on disk and its JWK."""

import stat
from concurrent.futures import ProcessPoolExecutor
from io import StringIO

import jwt
from cryptography.hazmat.primitives import serialization

from accounts.keys import jwk_thumbprint, public_jwk, signing_keys_ensure


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_first_call_generates_rsa_2048_pair_with_private_key_readable_by_owner_only(tmp_path):
    private_path = tmp_path / "var" / "keys" / "jwt_private.pem"
    public_path = tmp_path / "var" / "keys" / "jwt_public.pem"

    private_pem, public_pem = signing_keys_ensure(private_path=private_path, public_path=public_path)

    assert _mode(private_path) == 0o600
    assert _mode(public_path) == 0o644
    assert private_path.read_text() == private_pem
    assert public_path.read_text() == public_pem
    private_key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert private_key.key_size == 2048
    token = jwt.encode({"sub": "x"}, private_pem, algorithm="RS256")
    assert jwt.decode(token, public_pem, algorithms=["RS256"]) == {"sub": "x"}
    assert [p.name for p in private_path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_second_call_reuses_the_existing_pair(tmp_path):
    paths = {"private_path": tmp_path / "private.pem", "public_path": tmp_path / "public.pem"}

    first = signing_keys_ensure(**paths)
    second = signing_keys_ensure(**paths)

    assert second == first


def test_missing_public_key_is_rewritten_from_the_private_key(tmp_path):
    paths = {"private_path": tmp_path / "private.pem", "public_path": tmp_path / "public.pem"}
    _, public_pem = signing_keys_ensure(**paths)
    paths["public_path"].unlink()

    assert signing_keys_ensure(**paths)[1] == public_pem
    assert paths["public_path"].read_text() == public_pem


def _ensure(folder: str) -> str:
    return signing_keys_ensure(private_path=f"{folder}/private.pem", public_path=f"{folder}/public.pem")[0]


def test_processes_starting_together_end_up_with_one_key(tmp_path):
    with ProcessPoolExecutor(max_workers=4) as pool:
        private_pems = list(pool.map(_ensure, [str(tmp_path)] * 8))

    assert len(set(private_pems)) == 1
    assert (tmp_path / "private.pem").read_text() == private_pems[0]


def test_thumbprint_follows_rfc_7638_example():
    # The example key and thumbprint of RFC 7638, section 3.1.
    jwk = {
        "kty": "RSA",
        "n": (
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJE"
            "CPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2Q"
            "vzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6"
            "WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        ),
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }

    assert jwk_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_public_jwk_describes_the_public_key(tmp_path):
    _, public_pem = signing_keys_ensure(private_path=tmp_path / "private.pem", public_path=tmp_path / "public.pem")

    jwk = public_jwk(public_pem)

    assert set(jwk) == {"kty", "use", "alg", "kid", "n", "e"}
    assert (jwk["kty"], jwk["use"], jwk["alg"]) == ("RSA", "sig", "RS256")
    loaded = jwt.PyJWK(jwk).key
    assert loaded.public_numbers() == serialization.load_pem_public_key(public_pem.encode()).public_numbers()
    assert jwk["kid"] == jwk_thumbprint(jwk)


def test_jwt_keys_command_makes_the_pair_once_and_keeps_it(tmp_path, settings):
    from django.core.management import call_command

    settings.JWT_PRIVATE_KEY_FILE = str(tmp_path / "keys" / "jwt_private.pem")
    settings.JWT_PUBLIC_KEY_FILE = str(tmp_path / "keys" / "jwt_public.pem")

    call_command("jwt_keys", stdout=StringIO())
    private_pem = (tmp_path / "keys" / "jwt_private.pem").read_text()
    (tmp_path / "keys" / "jwt_public.pem").unlink()
    call_command("jwt_keys", stdout=StringIO())

    assert (tmp_path / "keys" / "jwt_private.pem").read_text() == private_pem
    public_pem = (tmp_path / "keys" / "jwt_public.pem").read_text()
    token = jwt.encode({"sub": "x"}, private_pem, algorithm="RS256")
    assert jwt.decode(token, public_pem, algorithms=["RS256"]) == {"sub": "x"}
