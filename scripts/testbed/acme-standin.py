#!/usr/bin/env python3
"""acme-standin.py — a stand-in ACME server for tests of what pebble 2.4 cannot do, and of hostile servers.

    acme-standin.py --mode MODE --dir DIR --port-file FILE

It implements just enough of RFC 8555 for each mode (directory, nonces, newAccount returning Location,
newOrder, authorizations, certificate download, ARI renewalInfo). It does NOT check JWS signatures or
nonces: it only base64url-decodes the payloads so tests can see what the client sent. Every POST is
appended to DIR/requests.jsonl as {"path": ..., "payload": <decoded JSON or "">}.

Modes:
  ari-profiles    directory with renewalInfo and meta.profiles {tlsserver, shortlived}; GET renewalInfo/<id>
                  answers a suggestedWindow with Retry-After: 21600 and records the id; the order stays
                  pending with Retry-After: 1.
  hostile-token   the authorization's http-01 challenge has token "../../etc/x".
  oversized       newOrder answers a 4 MiB JSON body in chunks (no Content-Length); the order URL answers
                  4 MiB with a Content-Length.
  non-json-error  newAccount answers HTTP 500 text/html.
  bad-chain       newOrder answers a valid order whose certificate chain's leaf is not signed by the
                  intermediate that follows it.
  boulder-ari     a stand-in for Let's Encrypt's Boulder as far as ARI `replaces` goes: it issues (every
                  authorization is valid at once, no challenge; finalize signs the CSR with DIR/issuing-ca),
                  gives each account key its own account URL, and enforces Boulder's rules on an order's
                  `replaces`: the certificate must be one it issued (else `malformed`), ordered by the same
                  account (else `malformed` "requester account did not request the certificate being
                  replaced by this order"), and not replaced yet by a finalized order (else
                  `alreadyReplaced`). renewalInfo answers a window 30–28 days before the certificate's
                  notAfter. DIR/issued.json lists what it issued: {ari id: {account, replaced, serial}}.
TLS: DIR/ca.pem (trust this) signs the server certificate for 127.0.0.1 / localhost (made with openssl).
Port: written to FILE once the server listens on a free loopback port.
"""
import argparse
import base64
import datetime
import hashlib
import json
import os
import secrets
import signal
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("ari-profiles", "hostile-token", "oversized", "non-json-error", "bad-chain", "boulder-ari")


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_ca(d, name, cn, days="30"):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", days,
            "-subj", "/CN=" + cn, "-keyout", os.path.join(d, name + ".key"), "-out", os.path.join(d, name + ".pem"),
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")


def make_leaf(d, name, ca, cn, san):
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\n" % san)
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=" + cn,
            "-keyout", os.path.join(d, name + ".key"), "-out", os.path.join(d, name + ".csr"))
    openssl("x509", "-req", "-in", os.path.join(d, name + ".csr"), "-CA", os.path.join(d, ca + ".pem"),
            "-CAkey", os.path.join(d, ca + ".key"), "-CAcreateserial", "-days", "30", "-extfile", ext,
            "-out", os.path.join(d, name + ".pem"))


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def openssl_out(*args):
    return subprocess.run(["openssl", *args], check=True, capture_output=True, text=True).stdout


class Boulder:
    """The state of the boulder-ari mode: accounts by key, orders, issued certificates by ARI id."""
    orders = {}
    issued = {}
    counter = 0

    @classmethod
    def save(cls, d):
        with open(os.path.join(d, "issued.json.tmp"), "w") as f:
            json.dump(cls.issued, f, indent=1, sort_keys=True)
        os.rename(os.path.join(d, "issued.json.tmp"), os.path.join(d, "issued.json"))

    @staticmethod
    def ca_key_id(d):
        text = openssl_out("x509", "-in", os.path.join(d, "issuing-ca.pem"), "-noout", "-ext", "subjectKeyIdentifier")
        hexid = text.strip().splitlines()[-1].strip().replace(":", "")
        return bytes.fromhex(hexid)

    @classmethod
    def issue(cls, d, csr_der, order_no):
        serial = bytes([secrets.randbelow(0x7F) + 1]) + secrets.token_bytes(15)
        csr = os.path.join(d, "order-%d.csr" % order_no)
        leaf = os.path.join(d, "order-%d.pem" % order_no)
        with open(csr + ".der", "wb") as f:
            f.write(csr_der)
        openssl("req", "-inform", "DER", "-in", csr + ".der", "-out", csr)
        ext = os.path.join(d, "order-%d.ext" % order_no)
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
                    "authorityKeyIdentifier=keyid\n")
        openssl("x509", "-req", "-in", csr, "-CA", os.path.join(d, "issuing-ca.pem"), "-CAkey",
                os.path.join(d, "issuing-ca.key"), "-set_serial", "0x" + serial.hex(), "-days", "90",
                "-copy_extensions", "copyall", "-extfile", ext, "-out", leaf)
        not_after = openssl_out("x509", "-in", leaf, "-noout", "-enddate").strip().split("=", 1)[1]
        return b64url(cls.ca_key_id(d)) + "." + b64url(serial), leaf, not_after


class StandIn(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    mode = ""
    state_dir = ""
    lock = threading.Lock()

    def log_message(self, fmt, *args):
        with open(os.path.join(self.state_dir, "access.log"), "a") as f:
            f.write("%s %s\n" % (self.command, fmt % args))

    def base(self):
        return "https://127.0.0.1:%d" % self.server.server_address[1]

    def send(self, status, body, ctype="application/json", headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Replay-Nonce", secrets.token_urlsafe(16))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

    def send_chunked(self, status, data, headers):
        """A body without Content-Length, so the client only learns its size by reading."""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Replay-Nonce", secrets.token_urlsafe(16))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        try:
            for i in range(0, len(data), 65536):
                piece = data[i:i + 65536]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True

    def record(self, entry):
        with self.lock, open(os.path.join(self.state_dir, "requests.jsonl"), "a") as f:
            f.write(json.dumps(entry) + "\n")

    def directory(self):
        b = self.base()
        d = {"newNonce": b + "/nonce", "newAccount": b + "/new-account", "newOrder": b + "/new-order",
             "revokeCert": b + "/revoke", "keyChange": b + "/key-change", "meta": {"termsOfService": b + "/tos"}}
        if self.mode == "boulder-ari":
            d["renewalInfo"] = b + "/renewal-info"
        if self.mode == "ari-profiles":
            d["renewalInfo"] = b + "/renewal-info"
            d["meta"]["profiles"] = {"tlsserver": "https://example.com/profiles/tlsserver",
                                     "shortlived": "https://example.com/profiles/shortlived"}
        return d

    def order(self, identifiers, extra=None):
        b = self.base()
        o = {"status": "pending", "expires": "2030-01-01T00:00:00Z", "identifiers": identifiers,
             "authorizations": [b + "/authz/1"], "finalize": b + "/finalize/1"}
        if self.mode == "bad-chain":
            o["status"] = "valid"
            o["certificate"] = b + "/cert/1"
        o.update(extra or {})
        return o

    def problem(self, status, kind, detail):
        self.send(status, {"type": "urn:ietf:params:acme:error:" + kind, "detail": detail}, "application/problem+json")

    def boulder_post(self, raw, payload):
        b = self.base()
        try:
            protected = json.loads(b64url_decode(json.loads(raw).get("protected", "")))
        except Exception:
            protected = {}
        if self.path == "/new-account":
            jwk = json.dumps(protected.get("jwk", {}), sort_keys=True).encode()
            account = b + "/acct/" + hashlib.sha256(jwk).hexdigest()[:12]
            return self.send(201, {"status": "valid"}, headers={"Location": account})
        account = protected.get("kid", "")
        with self.lock:
            if self.path == "/new-order":
                replaces = payload.get("replaces") if isinstance(payload, dict) else None
                if replaces is not None:
                    known = Boulder.issued.get(replaces)
                    if known is None:
                        return self.problem(400, "malformed", "unable to find the certificate being replaced: " + replaces)
                    if known["account"] != account:
                        return self.problem(400, "malformed", "requester account did not request the certificate "
                                            "being replaced by this order")
                    if known["replaced"]:
                        return self.problem(409, "alreadyReplaced", "cannot indicate an order replaces certificate "
                                            "with serial %s, which already has a replacement order" % known["serial"])
                Boulder.counter += 1
                n = Boulder.counter
                o = {"status": "ready", "expires": "2030-01-01T00:00:00Z",
                     "identifiers": payload.get("identifiers", []), "authorizations": [b + "/authz/%d" % n],
                     "finalize": b + "/finalize/%d" % n}
                if replaces is not None:
                    o["replaces"] = replaces
                Boulder.orders[n] = o
                return self.send(201, o, headers={"Location": b + "/order/%d" % n})
            parts = self.path.strip("/").split("/")
            n = int(parts[1]) if len(parts) == 2 and parts[1].isdigit() else 0
            o = Boulder.orders.get(n)
            if o is None:
                return self.problem(404, "malformed", "no such resource " + self.path)
            if parts[0] == "order":
                return self.send(200, o)
            if parts[0] == "authz":
                ident = (o["identifiers"] or [{"type": "dns", "value": "a.example.com"}])[0]
                return self.send(200, {"status": "valid", "identifier": ident, "challenges": [
                    {"type": "http-01", "url": b + "/chall/%d" % n, "status": "valid", "token": "tokenAAAA_-"}]})
            if parts[0] == "finalize":
                csr = b64url_decode(payload.get("csr", ""))
                ari, leaf, not_after = Boulder.issue(self.state_dir, csr, n)
                Boulder.issued[ari] = {"account": account, "replaced": False, "serial": ari.split(".")[1],
                                       "leaf": leaf, "not_after": not_after}
                if o.get("replaces") in Boulder.issued:
                    Boulder.issued[o["replaces"]]["replaced"] = True
                Boulder.save(self.state_dir)
                o["status"] = "valid"
                o["certificate"] = b + "/cert/%d" % n
                return self.send(200, o, headers={"Location": b + "/order/%d" % n})
            if parts[0] == "cert":
                with open(os.path.join(self.state_dir, "order-%d.pem" % n), "rb") as f:
                    leaf = f.read()
                with open(os.path.join(self.state_dir, "issuing-ca.pem"), "rb") as f:
                    ca = f.read()
                return self.send(200, leaf + ca, "application/pem-certificate-chain")
            if parts[0] == "chall":
                return self.send(200, {"type": "http-01", "url": b + self.path, "status": "valid",
                                       "token": "tokenAAAA_-"})
        return self.problem(404, "malformed", "no such resource " + self.path)

    def boulder_renewal_info(self):
        ari = self.path[len("/renewal-info/"):]
        known = Boulder.issued.get(ari)
        if known is None:
            return self.problem(404, "malformed", "unknown certificate " + ari)
        end = datetime.datetime.strptime(known["not_after"], "%b %d %H:%M:%S %Y %Z")
        start = end - datetime.timedelta(days=30)
        stop = end - datetime.timedelta(days=28)
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        return self.send(200, {"suggestedWindow": {"start": start.strftime(fmt), "end": stop.strftime(fmt)}},
                         headers={"Retry-After": "21600"})

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        if self.path == "/dir":
            return self.send(200, self.directory())
        if self.path == "/nonce":
            return self.send(200, b"", "text/plain")
        if self.path.startswith("/renewal-info/") and self.mode == "boulder-ari":
            self.record({"path": self.path, "payload": ""})
            return self.boulder_renewal_info()
        if self.path.startswith("/renewal-info/") and self.mode == "ari-profiles":
            self.record({"path": self.path, "payload": ""})
            return self.send(200, {"suggestedWindow": {"start": "2030-01-02T03:04:05Z",
                                                       "end": "2030-01-03T03:04:05.5Z"},
                                   "explanationURL": "https://example.com/why"},
                             headers={"Retry-After": "21600"})
        self.send(404, {"type": "urn:ietf:params:acme:error:malformed", "detail": "no such resource"},
                  "application/problem+json")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length) if length else b""
        payload = ""
        try:
            jws = json.loads(raw)
            text = b64url_decode(jws.get("payload", "")).decode()
            payload = json.loads(text) if text else ""
        except Exception:
            payload = "<unparsable>"
        self.record({"path": self.path, "payload": payload})
        b = self.base()
        if self.mode == "boulder-ari":
            return self.boulder_post(raw, payload)
        if self.path == "/new-account":
            if self.mode == "non-json-error":
                return self.send(500, b"<html><body><h1>Internal Server Error</h1>oops</body></html>", "text/html")
            return self.send(201, {"status": "valid", "contact": payload.get("contact", []) if payload else []},
                             headers={"Location": b + "/acct/1"})
        if self.path == "/new-order":
            if self.mode == "oversized":
                return self.send_chunked(201, b'{"status": "pending", "padding": "' + b"x" * (4 << 20) + b'"}',
                                         {"Location": b + "/order/1"})
            ids = payload.get("identifiers", []) if isinstance(payload, dict) else []
            extra = {k: payload[k] for k in ("profile", "replaces") if isinstance(payload, dict) and k in payload}
            return self.send(201, self.order(ids, extra), headers={"Location": b + "/order/1"})
        if self.path == "/order/1" and self.mode == "oversized":
            return self.send(200, {"status": "pending", "padding": "x" * (4 << 20)})
        if self.path == "/order/1":
            headers = {"Retry-After": "1"} if self.mode == "ari-profiles" else None
            return self.send(200, self.order([{"type": "dns", "value": "a.example.com"}]), headers=headers)
        if self.path == "/authz/1":
            token = "../../etc/x" if self.mode == "hostile-token" else "tokenAAAA_-"
            return self.send(200, {"status": "pending", "identifier": {"type": "dns", "value": "a.example.com"},
                                   "challenges": [{"type": "http-01", "url": b + "/chall/1", "status": "pending",
                                                   "token": token}]})
        if self.path == "/cert/1" and self.mode == "bad-chain":
            with open(os.path.join(self.state_dir, "leaf.pem"), "rb") as f:
                leaf = f.read()
            with open(os.path.join(self.state_dir, "other-ca.pem"), "rb") as f:
                other = f.read()
            return self.send(200, leaf + other, "application/pem-certificate-chain")
        self.send(404, {"type": "urn:ietf:params:acme:error:malformed", "detail": "no such resource " + self.path},
                  "application/problem+json")


def main():
    p = argparse.ArgumentParser(description="stand-in ACME server for tests (no JWS checks)")
    p.add_argument("--mode", required=True, choices=MODES)
    p.add_argument("--dir", required=True)
    p.add_argument("--port-file", required=True)
    a = p.parse_args()
    # A parent may have started us with signals blocked (Foundation's Process does): take SIGTERM again.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, set(signal.Signals))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    os.makedirs(a.dir, exist_ok=True)
    make_ca(a.dir, "ca", "stand-in TLS CA")
    make_leaf(a.dir, "server", "ca", "localhost", "DNS:localhost,IP:127.0.0.1")
    if a.mode == "boulder-ari":
        make_ca(a.dir, "issuing-ca", "stand-in Boulder issuing CA", days="400")
    if a.mode == "bad-chain":
        make_ca(a.dir, "issuing-ca", "stand-in issuing CA")
        # Same subject as the real issuer, another key: only the signature check can tell.
        make_ca(a.dir, "other-ca", "stand-in issuing CA")
        make_leaf(a.dir, "leaf", "issuing-ca", "a.example.com", "DNS:a.example.com")
    StandIn.mode = a.mode
    StandIn.state_dir = a.dir
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(a.dir, "server.pem"), os.path.join(a.dir, "server.key"))
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % httpd.server_address[1])
    os.rename(tmp, a.port_file)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
