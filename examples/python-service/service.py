#!/usr/bin/env python3
"""A service that accepts gatehouse access tokens with the JWKS alone (PyJWT, http.server).

GET /whoami with "Authorization: Bearer <access token>" answers 200 {"sub", "email",
"client_id"}; a missing or invalid token answers 401, the JWKS out of reach 503.

Settings (environment):
  GATEHOUSE_URL         gatehouse's public URL                          (required)
  GATEHOUSE_ISSUER      the iss tokens must carry                       [GATEHOUSE_URL]
  GATEHOUSE_AUDIENCE    the aud tokens must carry                       [the issuer]
  GATEHOUSE_JWKS_URL    where the public keys are      [GATEHOUSE_URL/.well-known/jwks.json]
  GATEHOUSE_JWT_ALG     the one algorithm accepted (gatehouse's setting)  [ES256]
  HOST, PORT            where to listen (PORT=0: any free port)         [127.0.0.1, 8081]
  JWKS_REFRESH_SECONDS  least time between two fetches of the JWKS      [30]
"""
import json
import os
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt

GATEHOUSE_URL = os.environ.get("GATEHOUSE_URL", "").rstrip("/")
if not GATEHOUSE_URL:
    sys.exit("service.py: set GATEHOUSE_URL to gatehouse's public URL")
ISSUER = os.environ.get("GATEHOUSE_ISSUER") or GATEHOUSE_URL
AUDIENCE = os.environ.get("GATEHOUSE_AUDIENCE") or ISSUER
JWKS_URL = os.environ.get("GATEHOUSE_JWKS_URL") or GATEHOUSE_URL + "/.well-known/jwks.json"
ALGORITHM = os.environ.get("GATEHOUSE_JWT_ALG") or "ES256"
REFRESH_SECONDS = float(os.environ.get("JWKS_REFRESH_SECONDS") or 30)
MAX_AGE_SECONDS = 600  # the key set is fetched again this often even without a new kid
CLOCK_LEEWAY = 5  # seconds our clock may differ from gatehouse's


class KeysUnavailable(Exception):
    pass


class KeySet:
    """The JWKS by kid. Fetched again for a kid not seen yet — gatehouse publishes a new key
    before it signs with it — but at most once per REFRESH_SECONDS, so tokens with made-up kids
    cannot make this service hammer gatehouse."""

    def __init__(self, url):
        self.url = url
        self.keys = {}
        self.fetched_at = None
        self.error = "not fetched yet"
        self.lock = threading.Lock()

    def get(self, kid):
        with self.lock:
            now = time.monotonic()
            age = None if self.fetched_at is None else now - self.fetched_at
            unknown = kid not in self.keys
            if age is None or age >= MAX_AGE_SECONDS or (unknown and age >= REFRESH_SECONDS):
                self.fetched_at = now
                try:
                    with urllib.request.urlopen(self.url, timeout=5) as r:
                        jwks = jwt.PyJWKSet.from_dict(json.load(r))
                    signing = [k for k in jwks.keys if k.public_key_use in ("sig", None)]
                    self.keys = {k.key_id: k for k in signing}
                except (OSError, ValueError, jwt.PyJWTError) as e:
                    self.error = str(e)  # keep the keys we have
            if not self.keys:
                raise KeysUnavailable(self.error)
            return self.keys.get(kid)


KEYS = KeySet(JWKS_URL)


def verify(token):
    """The claims of a valid access token; raises jwt.PyJWTError otherwise."""
    kid = jwt.get_unverified_header(token).get("kid")
    key = KEYS.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise jwt.InvalidTokenError("unknown key")
    claims = jwt.decode(
        token,
        key.key,
        algorithms=[ALGORITHM],  # never the one the token names: no "none", no HMAC
        issuer=ISSUER,
        audience=AUDIENCE,
        leeway=CLOCK_LEEWAY,
        options={"require": ["exp", "iat", "iss", "aud", "sub"]},
    )
    if claims.get("token_type") != "access":
        raise jwt.InvalidTokenError("not an access token")
    return claims


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # the body follows the headers at once, not after an ACK

    def do_GET(self):
        if self.path.split("?", 1)[0] != "/whoami":
            return self.reply(404, {"error": "not found"})
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return self.reply(
                401, {"error": "a Bearer access token is needed"}, 'Bearer realm="example"'
            )
        try:
            claims = verify(token.strip())
        except KeysUnavailable:
            return self.reply(503, {"error": "the signing keys cannot be fetched"})
        except jwt.PyJWTError:
            return self.reply(401, {"error": "invalid token"}, 'Bearer error="invalid_token"')
        self.reply(200, {k: claims.get(k) for k in ("sub", "email", "client_id")})

    def reply(self, status, body, challenge=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if challenge:
            self.send_header("WWW-Authenticate", challenge)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass  # no access log


def main():
    address = (os.environ.get("HOST") or "127.0.0.1", int(os.environ.get("PORT") or 8081))
    server = ThreadingHTTPServer(address, Handler)
    server.daemon_threads = True
    host, port = server.server_address[:2]
    print(f"listening on {host}:{port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
