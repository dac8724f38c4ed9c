#!/usr/bin/python3
"""acme_probe: a small ACME client for tests/integration/test_acme_protocol.sh, built on Debian's python3-acme and
python3-josepy (the libraries certbot signs with), for what the real clients never send: requests signed by the
wrong key, with the wrong url, a used nonce, no external account binding, 10,000 identifiers, a CSR that does not
match its order. Every request is one JWS POST (RFC 8555 §6.2); the answer is printed as one JSON line
{"status": N, "location": ..., "body": ...}.

  acme_probe.py key FILE                            make an account key (P-256, PEM)
  acme_probe.py account DIR KEY [EAB_KID EAB_KEY]   newAccount; prints the answer (location: the account URL)
  acme_probe.py post DIR KEY KID URL PAYLOAD [--nonce N] [--url U] [--sign-with KEY2]
        POST PAYLOAD (JSON, or "" for POST-as-GET) to URL as account KID; --nonce sends that nonce instead of a
        fresh one, --url signs another url than the one posted to, --sign-with signs with another key
  acme_probe.py nonce DIR                           a fresh nonce
  acme_probe.py csr FILE NAME...                    a CSR (DER, base64url) for the names, with a new P-256 key
  acme_probe.py dns01 KEY TOKEN                     the TXT value dns-01 wants: base64url(SHA-256(token "." thumbprint))
  acme_probe.py certid PEM                          the RFC 9773 certID of the first certificate of PEM
  acme_probe.py get URL                             a plain GET (renewalInfo), printed as the POSTs are
  acme_probe.py keychange DIR OLDKEY KID NEWKEY     key rollover (RFC 8555 §7.3.5) of account KID to NEWKEY
"""
import json
import sys
import urllib.error
import urllib.request

import josepy as jose
from acme import jws as acme_jws
from acme import messages
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def load_key(path):
    with open(path, "rb") as f:
        return jose.JWK.load(f.read())


def directory(url):
    with urllib.request.urlopen(url) as r:
        return json.load(r)


def fresh_nonce(dir_url):
    req = urllib.request.Request(directory(dir_url)["newNonce"], method="HEAD")
    with urllib.request.urlopen(req) as r:
        return r.headers["Replay-Nonce"]


def send(url, body):
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/jose+json"})
    try:
        with urllib.request.urlopen(req) as r:
            status, headers, data = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, headers, data = e.code, e.headers, e.read()
    try:
        parsed = json.loads(data) if data else None
    except ValueError:
        parsed = data.decode(errors="replace")
    print(json.dumps({"status": status, "location": headers.get("Location"), "nonce": headers.get("Replay-Nonce"),
                      "content_type": headers.get("Content-Type"), "links": headers.get_all("Link") or [],
                      "body": parsed}))


def sign(payload, key, url, nonce, kid=None):
    """A flattened JWS; nonce is the Replay-Nonce text (python-acme takes its bytes and encodes them again)."""
    raw = b"" if payload == "" else json.dumps(payload).encode()
    n = jose.b64decode(nonce)
    if kid:
        return acme_jws.JWS.sign(raw, key=key, alg=jose.ES256, nonce=n, url=url, kid=kid).json_dumps().encode()
    return acme_jws.JWS.sign(raw, key=key, alg=jose.ES256, nonce=n, url=url).json_dumps().encode()


def main(argv):
    cmd = argv[1]
    if cmd == "key":
        k = ec.generate_private_key(ec.SECP256R1())
        with open(argv[2], "wb") as f:
            f.write(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    elif cmd == "nonce":
        print(fresh_nonce(argv[2]))
    elif cmd == "account":
        d, key = directory(argv[2]), load_key(argv[3])
        payload = {"termsOfServiceAgreed": True, "contact": ["mailto:probe@example.org"]}
        if len(argv) > 5:
            payload["externalAccountBinding"] = messages.ExternalAccountBinding.from_data(
                account_public_key=key.public_key(), kid=argv[4], hmac_key=argv[5],
                directory=messages.Directory.from_json(d))
        send(d["newAccount"], sign(payload, key, d["newAccount"], fresh_nonce(argv[2])))
    elif cmd == "post":
        d_url, key, kid, url, payload = argv[2], load_key(argv[3]), argv[4], argv[5], argv[6]
        opts = dict(zip(argv[7::2], argv[8::2]))
        nonce = opts.get("--nonce") or fresh_nonce(d_url)
        signer = load_key(opts["--sign-with"]) if "--sign-with" in opts else key
        if payload.startswith("@"):  # a payload too long for a command line
            with open(payload[1:]) as f:
                payload = f.read()
        body = sign("" if payload == "" else json.loads(payload), signer, opts.get("--url", url), nonce, kid)
        send(url, body)
    elif cmd == "csr":
        k = ec.generate_private_key(ec.SECP256R1())
        names = argv[3:]
        csr = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
               .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
               .sign(k, hashes.SHA256()))
        with open(argv[2], "w") as f:
            f.write(jose.b64encode(csr.public_bytes(serialization.Encoding.DER)).decode())
    elif cmd == "certid":
        with open(argv[2], "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
        n = cert.serial_number
        serial = n.to_bytes(n.bit_length() // 8 + 1, "big")  # the INTEGER's content octets (a leading 0 if needed)
        print(jose.b64encode(aki).decode() + "." + jose.b64encode(serial).decode())
    elif cmd == "get":
        try:
            with urllib.request.urlopen(argv[2]) as r:
                status, headers, data = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            status, headers, data = e.code, e.headers, e.read()
        print(json.dumps({"status": status, "retry_after": headers.get("Retry-After"), "body": json.loads(data or b"null")}))
    elif cmd == "keychange":
        d, old, kid, new = directory(argv[2]), load_key(argv[3]), argv[4], load_key(argv[5])
        url = d["keyChange"]
        inner_payload = json.dumps({"account": kid, "oldKey": old.public_key().to_partial_json()}).encode()
        inner = acme_jws.JWS.sign(inner_payload, key=new, alg=jose.ES256, nonce=None, url=url)
        send(url, sign(inner.to_partial_json(), old, url, fresh_nonce(argv[2]), kid))
    elif cmd == "dns01":
        ka = argv[3] + "." + jose.b64encode(load_key(argv[2]).thumbprint()).decode()
        digest = hashes.Hash(hashes.SHA256())
        digest.update(ka.encode())
        print(jose.b64encode(digest.finalize()).decode())
    else:
        raise SystemExit("usage: see the module docstring")


if __name__ == "__main__":
    main(sys.argv)
