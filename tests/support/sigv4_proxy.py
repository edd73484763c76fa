#!/usr/bin/python3
"""A verifying AWS Signature Version 4 proxy for S3 emulators used in tests.

The s3rver emulator accepts any signature. This proxy sits in front of it and lets a request
through only when its `Authorization: AWS4-HMAC-SHA256 ...` header carries the right access
key, region and service and a signature equal to the one botocore computes with the secret key
for the same request (same method, path, query, signed headers and X-Amz-Date). The
`x-amz-content-sha256` header must equal the SHA-256 of the body (or be UNSIGNED-PAYLOAD).

Verified requests are forwarded to the upstream (without the Authorization header, which the
emulator would otherwise check against its own accounts) and the answer is relayed. Refused
requests get a 403 with an S3-style XML error. Every request is logged to stderr as one JSON
line: {"method", "path", "verdict", "code", "reason", "status"}.

Control endpoints (not S3; `__` can never start a bucket name):
  GET /__sigv4proxy/log    -> JSON list of every logged request
  GET /__sigv4proxy/stats  -> {"requests": n, "accepted": n, "rejected": n}

Run with Debian's interpreter (python3-botocore):
  /usr/bin/python3 tests/support/sigv4_proxy.py --upstream http://127.0.0.1:PORT \
      --access-key AK --region us-east-1 [--port 0]
The secret key comes from --secret-key or, preferably, the SIGV4_PROXY_SECRET_KEY variable.
Prints `listening on 127.0.0.1:PORT` on stdout once ready.
"""

import argparse
import calendar
import datetime
import hashlib
import hmac
import http.client
import json
import os
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from botocore.auth import S3SigV4Auth, SIGV4_TIMESTAMP, UNSIGNED_PAYLOAD
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

CONTROL_PREFIX = "/__sigv4proxy/"
MAX_SKEW_SECONDS = 15 * 60
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "trailers", "transfer-encoding", "upgrade", "expect",
}
AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256\s+"
    r"Credential=(?P<credential>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+)\s*,\s*"
    r"Signature=(?P<signature>[0-9a-fA-F]+)\s*$"
)
SHA256_HEX_RE = re.compile(r"^[0-9a-f]{64}$")


class Rejection(Exception):
    def __init__(self, code, reason, status=403):
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.status = status


class _GivenHeadersAuth(S3SigV4Auth):
    """S3SigV4Auth that signs exactly the headers the client listed in SignedHeaders.

    botocore's own headers_to_sign() picks every request header except a small blacklist
    (expect, user-agent, ...) and adds `host` when missing; a verifier must instead use the
    client's list, so that one is handed in already filtered.
    """

    def __init__(self, credentials, service_name, region_name, signed_headers):
        super().__init__(credentials, service_name, region_name)
        self._given_headers = signed_headers

    def headers_to_sign(self, request):
        return self._given_headers


def expected_signature(cfg, method, url, signed_headers, body, amz_date):
    """The signature botocore computes for this request at the timestamp `amz_date`.

    SigV4Auth.add_auth() stamps the request with "now" and rewrites some headers before
    signing; for verification the steps after that are run directly with the client's
    X-Amz-Date as the timestamp.
    """
    creds = Credentials(cfg.access_key, cfg.secret_key)
    auth = _GivenHeadersAuth(creds, cfg.service, cfg.region, signed_headers)
    req = AWSRequest(method=method, url=url, headers=signed_headers, data=body)
    req.context["timestamp"] = amz_date
    canonical_request = auth.canonical_request(req)
    string_to_sign = auth.string_to_sign(req, canonical_request)
    return auth.signature(string_to_sign, req), canonical_request, string_to_sign


class Config:
    def __init__(self, args):
        self.access_key = args.access_key
        self.secret_key = args.secret_key
        self.region = args.region
        self.service = args.service
        up = urlsplit(args.upstream)
        if up.scheme != "http" or not up.hostname:
            raise SystemExit("--upstream must be an http:// URL")
        self.upstream_host = up.hostname
        self.upstream_port = up.port or 80
        self.upstream_hostport = up.netloc
        self.lock = threading.Lock()
        self.log = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sigv4-proxy"
    sys_version = ""

    # ------------------------------------------------------------------ plumbing

    def log_message(self, fmt, *args):  # the JSON lines are the log
        pass

    @property
    def cfg(self):
        return self.server.cfg

    def _record(self, verdict, status, code=None, reason=None, extra=None):
        entry = {
            "time": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "method": self.command,
            "path": self.path,
            "verdict": verdict,
            "status": status,
        }
        if code:
            entry["code"] = code
        if reason:
            entry["reason"] = reason
        if extra:
            entry.update(extra)
        with self.cfg.lock:
            self.cfg.log.append(entry)
            sys.stderr.write(json.dumps(entry) + "\n")
            sys.stderr.flush()

    def _send(self, status, body=b"", headers=(), close=False):
        self.send_response(status)
        sent = set()
        for k, v in headers:
            self.send_header(k, v)
            sent.add(k.lower())
        if "content-length" not in sent:
            self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def _send_error_xml(self, rej, close=False):
        request_id = uuid.uuid4().hex[:16].upper()
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            "<Error><Code>%s</Code><Message>%s</Message><Resource>%s</Resource>"
            "<RequestId>%s</RequestId></Error>"
            % (escape(rej.code), escape(rej.reason), escape(urlsplit(self.path).path), request_id)
        ).encode("utf-8")
        self._send(rej.status, body, [("Content-Type", "application/xml"),
                                      ("x-amz-request-id", request_id)], close=close)

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)  # CRLF after the chunk
            return b"".join(chunks)
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        n = int(length)
        return self.rfile.read(n) if n > 0 else b""

    # ------------------------------------------------------------------ verification

    def _check_headers(self):
        """Everything that can be checked before the body is read. Returns the parsed state."""
        cfg = self.cfg
        authz = self.headers.get_all("Authorization") or []
        if not authz:
            raise Rejection("AccessDenied", "Anonymous requests are not allowed: no Authorization header")
        if len(authz) > 1:
            raise Rejection("AuthorizationHeaderMalformed", "More than one Authorization header")
        m = AUTH_RE.match(authz[0].strip())
        if not m:
            raise Rejection("AuthorizationHeaderMalformed",
                            "The Authorization header is not AWS4-HMAC-SHA256 Credential SignedHeaders Signature")
        cred = m.group("credential").split("/")
        if len(cred) != 5:
            raise Rejection("AuthorizationHeaderMalformed", "Credential must be AK/date/region/service/aws4_request")
        access_key, cred_date, region, service, terminator = cred
        if access_key != cfg.access_key:
            raise Rejection("InvalidAccessKeyId", "The access key id %r is unknown" % access_key)
        if region != cfg.region:
            raise Rejection("AuthorizationHeaderMalformed",
                            "The region %r is wrong; expecting %r" % (region, cfg.region))
        if service != cfg.service:
            raise Rejection("AuthorizationHeaderMalformed",
                            "The service %r is wrong; expecting %r" % (service, cfg.service))
        if terminator != "aws4_request":
            raise Rejection("AuthorizationHeaderMalformed", "The credential must end with aws4_request")

        amz_date = self.headers.get("X-Amz-Date")
        if not amz_date:
            raise Rejection("AccessDenied", "X-Amz-Date header is missing")
        try:
            ts = datetime.datetime.strptime(amz_date, SIGV4_TIMESTAMP)
        except ValueError:
            raise Rejection("AccessDenied", "X-Amz-Date %r is not YYYYMMDDTHHMMSSZ" % amz_date)
        if cred_date != amz_date[:8]:
            raise Rejection("AuthorizationHeaderMalformed",
                            "Credential date %s does not match X-Amz-Date %s" % (cred_date, amz_date))
        skew = abs(calendar.timegm(ts.timetuple()) - time.time())
        if skew > MAX_SKEW_SECONDS:
            raise Rejection("RequestTimeTooSkewed", "X-Amz-Date is %d s away from the proxy clock" % skew)

        signed_names = m.group("signed").split(";")
        if signed_names != sorted(set(signed_names)) or any(n != n.lower() or not n for n in signed_names):
            raise Rejection("AuthorizationHeaderMalformed",
                            "SignedHeaders must be lower-case, sorted and unique: %s" % m.group("signed"))
        for required in ("host", "x-amz-date"):
            if required not in signed_names:
                raise Rejection("AccessDenied", "The %s header must be signed" % required)
        present = {k.lower() for k in self.headers.keys()}
        unsigned_amz = sorted(n for n in present if n.startswith("x-amz-") and n not in signed_names)
        if unsigned_amz:
            raise Rejection("AccessDenied", "x-amz-* headers must be signed; unsigned: %s" % ",".join(unsigned_amz))
        signed = HTTPHeaders()
        for name in signed_names:
            values = self.headers.get_all(name)
            if not values:
                raise Rejection("AccessDenied", "Signed header %s is not in the request" % name)
            for v in values:
                signed[name] = v

        content_sha = self.headers.get("x-amz-content-sha256")
        if content_sha is None:
            raise Rejection("InvalidRequest", "Missing required header for this request: x-amz-content-sha256", 400)
        if content_sha != UNSIGNED_PAYLOAD and not SHA256_HEX_RE.match(content_sha):
            raise Rejection("InvalidArgument",
                            "x-amz-content-sha256 must be a lower-case hex SHA-256 or UNSIGNED-PAYLOAD", 400)
        return {"amz_date": amz_date, "signed": signed, "signed_names": signed_names,
                "signature": m.group("signature").lower(), "content_sha": content_sha}

    def _check_signature(self, st, body):
        url = "http://%s%s" % (self.headers.get("Host", "localhost"), self._origin_form())
        expected, _, _ = expected_signature(self.cfg, self.command, url, st["signed"], body, st["amz_date"])
        if not hmac.compare_digest(expected.encode(), st["signature"].encode()):
            raise Rejection("SignatureDoesNotMatch",
                            "The request signature we calculated does not match the signature you provided. "
                            "Check your key and signing method.")

    def _verify(self, body):
        st = self._check_headers()
        if st["content_sha"] != UNSIGNED_PAYLOAD:
            actual = hashlib.sha256(body).hexdigest()
            if not hmac.compare_digest(actual, st["content_sha"]):
                raise Rejection("XAmzContentSHA256Mismatch",
                                "x-amz-content-sha256 %s does not match the body (%s)" % (st["content_sha"], actual))
        self._check_signature(st, body)
        return st

    def _origin_form(self):
        if self.path.startswith("http://") or self.path.startswith("https://"):
            p = urlsplit(self.path)
            return p.path + ("?" + p.query if p.query else "")
        return self.path

    # ------------------------------------------------------------------ request flow

    def handle_expect_100(self):
        # The signature can be checked from the headers alone (the body hash is a header), so a
        # bad request is refused before the client uploads the body, as S3 does.
        if self.path.startswith(CONTROL_PREFIX):
            return super().handle_expect_100()
        try:
            # x-amz-content-sha256 is a signed header, so the body is not needed for this.
            self._check_signature(self._check_headers(), None)
        except Rejection as rej:
            self._record("rejected", rej.status, rej.code, rej.reason, {"stage": "expect-100"})
            self._send_error_xml(rej, close=True)
            return False
        return super().handle_expect_100()

    def _handle(self):
        if self.path.startswith(CONTROL_PREFIX):
            return self._control()
        try:
            body = self._read_body()
        except (ValueError, OSError) as e:
            rej = Rejection("IncompleteBody", "Could not read the request body: %s" % e, 400)
            self._record("rejected", rej.status, rej.code, rej.reason)
            return self._send_error_xml(rej, close=True)
        try:
            st = self._verify(body)
        except Rejection as rej:
            self._record("rejected", rej.status, rej.code, rej.reason)
            return self._send_error_xml(rej)
        try:
            status, headers, resp_body = self._forward(body)
        except OSError as e:
            self._record("upstream-error", 502, "BadGateway", str(e))
            return self._send(502, b"upstream unreachable\n", [("Content-Type", "text/plain")])
        self._record("ok", status, extra={"bytes": len(body), "signed_headers": ";".join(st["signed_names"])})
        self._send(status, resp_body, headers)

    def _forward(self, body):
        cfg = self.cfg
        conn = http.client.HTTPConnection(cfg.upstream_host, cfg.upstream_port, timeout=30)
        try:
            headers = {}
            for k, v in self.headers.items():
                lk = k.lower()
                if lk in HOP_BY_HOP or lk in ("authorization", "host", "content-length"):
                    continue
                headers[k] = v
            headers["Host"] = cfg.upstream_hostport
            if body or self.command in ("PUT", "POST"):
                headers["Content-Length"] = str(len(body))
            conn.request(self.command, self._origin_form(), body=body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            out = []
            for k, v in resp.getheaders():
                lk = k.lower()
                if lk in HOP_BY_HOP or lk in ("date", "server"):
                    continue  # send_response() writes its own Date and Server
                if lk == "content-length" and self.command != "HEAD":
                    continue
                out.append((k, v))
            if self.command != "HEAD":
                out.append(("Content-Length", str(len(data))))
            return resp.status, out, data
        finally:
            conn.close()

    def _control(self):
        self._read_body()
        what = urlsplit(self.path).path[len(CONTROL_PREFIX):]
        with self.cfg.lock:
            log = list(self.cfg.log)
        if what == "log":
            payload = log
        elif what == "stats":
            payload = {
                "requests": len(log),
                "accepted": sum(1 for e in log if e["verdict"] == "ok"),
                "rejected": sum(1 for e in log if e["verdict"] == "rejected"),
            }
        else:
            return self._send(404, b"{}", [("Content-Type", "application/json")])
        self._send(200, json.dumps(payload).encode(), [("Content-Type", "application/json")])

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--upstream", required=True, help="the S3 emulator, http://host:port")
    ap.add_argument("--access-key", required=True)
    ap.add_argument("--secret-key", default=os.environ.get("SIGV4_PROXY_SECRET_KEY"))
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--service", default="s3")
    args = ap.parse_args()
    if not args.secret_key:
        ap.error("--secret-key or SIGV4_PROXY_SECRET_KEY is required")

    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    server.cfg = Config(args)
    host, port = server.server_address[:2]
    print("listening on %s:%d" % (host, port), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
