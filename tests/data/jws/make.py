#!/usr/bin/python3
"""Makes the ACME JWS fixtures of tests/unit/test_acme_jws.c with an independent implementation: python3-josepy and
python3-acme (Debian's, the libraries certbot signs with). josepy 1.13 has no EdDSA (RFC 8037), so eddsa.jws is
assembled here and signed by python3-cryptography. Run it from anywhere; it rewrites the files next to it:

  <name>.jws    a flattened JWS as certbot would POST it (RFC 8555 §6.2)
  <name>.thumb  josepy's RFC 7638 thumbprint of its account key (base64url), for the jwk fixtures
  eab.json      an externalAccountBinding made by acme.messages.ExternalAccountBinding.from_data (RFC 8555
                §7.3.4) for the key of newaccount-eab.jws; eab.key holds its HMAC key (base64url)
The fixtures use the URLs and nonce below; the unit test knows them."""
import json
import os

import josepy as jose
from acme import jws as acme_jws
from acme import messages
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

HERE = os.path.dirname(os.path.abspath(__file__))
NEW_ACCOUNT = "https://acme.example/acme/new-account"
ORDER = "https://acme.example/acme/order/1"
NONCE = b"iotca-test-nonce-0123"  # josepy base64url-encodes the nonce bytes
EAB_KEY = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"  # as a CA would hand it out
EAB_KID = "kid-1"


def write(name, text):
    with open(os.path.join(HERE, name), "w") as f:
        f.write(text)


def new_account(name, key, alg, payload=None):
    jwk = jose.JWK.load(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    body = payload or {"termsOfServiceAgreed": True, "contact": ["mailto:admin@example.org"]}
    signed = acme_jws.JWS.sign(json.dumps(body).encode(), key=jwk, alg=alg, nonce=NONCE, url=NEW_ACCOUNT)
    write(name + ".jws", signed.json_dumps(indent=2) + "\n")
    write(name + ".thumb", jose.b64encode(jwk.public_key().thumbprint()).decode() + "\n")
    return jwk


def b64(data):
    return jose.b64encode(data).decode()


def eddsa(name):
    """RFC 8037 §A.4's shape with a fresh key: protected {alg: EdDSA, jwk: OKP Ed25519, nonce, url}."""
    key = ed25519.Ed25519PrivateKey.generate()
    x = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": b64(x)}
    header = {"alg": "EdDSA", "jwk": jwk, "nonce": b64(NONCE), "url": NEW_ACCOUNT}
    protected = b64(json.dumps(header).encode())
    payload = b64(json.dumps({"termsOfServiceAgreed": True}).encode())
    sig = key.sign((protected + "." + payload).encode())
    write(name + ".jws", json.dumps({"protected": protected, "payload": payload, "signature": b64(sig)}, indent=2) + "\n")
    canonical = json.dumps(jwk, sort_keys=True, separators=(",", ":")).encode()  # RFC 7638 §3.2
    digest = hashes.Hash(hashes.SHA256())
    digest.update(canonical)
    write(name + ".thumb", b64(digest.finalize()) + "\n")


def main():
    es256 = new_account("es256", ec.generate_private_key(ec.SECP256R1()), jose.ES256)
    new_account("es384", ec.generate_private_key(ec.SECP384R1()), jose.ES384)
    new_account("rs256", rsa.generate_private_key(65537, 2048), jose.RS256)  # certbot's default account key
    # a POST-as-GET (RFC 8555 §6.3) by the ES256 account, naming it by kid: payload ""
    kid = "https://acme.example/acme/acct/1"
    signed = acme_jws.JWS.sign(b"", key=es256, alg=jose.ES256, nonce=NONCE, url=ORDER, kid=kid)
    write("es256-kid.jws", signed.json_dumps(indent=2) + "\n")
    eddsa("eddsa")

    account = ec.generate_private_key(ec.SECP256R1())
    account_jwk = jose.JWK.load(account.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()))
    directory = messages.Directory({"newAccount": NEW_ACCOUNT})
    eab = messages.ExternalAccountBinding.from_data(account_jwk.public_key(), EAB_KID, EAB_KEY, directory)
    write("eab.json", json.dumps(eab, indent=2) + "\n")
    write("eab.key", EAB_KEY + "\n")
    new_account("newaccount-eab", account, jose.ES256, {"termsOfServiceAgreed": True, "externalAccountBinding": eab})


if __name__ == "__main__":
    main()
