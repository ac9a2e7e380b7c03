#!/usr/bin/env python3
"""acme-standin.py — a stand-in ACME server for tests of what pebble 2.4 cannot do, and of hostile servers.

    acme-standin.py --mode MODE --dir DIR --port-file FILE

It implements just enough of RFC 8555 for each mode (directory, nonces, newAccount returning Location,
newOrder, authorizations, certificate download, ARI renewalInfo). It does NOT check JWS signatures or
nonces: it only base64url-decodes the payloads so tests can see what the client sent. Every POST is
appended to DIR/requests.jsonl as {"path": ..., "payload": <decoded JSON or "">}.

Modes:
  ari-profiles    directory with renewalInfo and meta.profiles {tlsserver, shortlived}; GET renewalInfo/<id>
                  answers a suggestedWindow with Retry-After: 21600 and records the id.
  hostile-token   the authorization's http-01 challenge has token "../../etc/x".
  oversized       newOrder answers a 4 MiB JSON body.
  non-json-error  newAccount answers HTTP 500 text/html.
  bad-chain       newOrder answers a valid order whose certificate chain's leaf is not signed by the
                  intermediate that follows it.
TLS: DIR/ca.pem (trust this) signs the server certificate for 127.0.0.1 / localhost (made with openssl).
Port: written to FILE once the server listens on a free loopback port.
"""
import argparse
import base64
import json
import os
import secrets
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("ari-profiles", "hostile-token", "oversized", "non-json-error", "bad-chain")


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_ca(d, name, cn):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
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

    def record(self, entry):
        with self.lock, open(os.path.join(self.state_dir, "requests.jsonl"), "a") as f:
            f.write(json.dumps(entry) + "\n")

    def directory(self):
        b = self.base()
        d = {"newNonce": b + "/nonce", "newAccount": b + "/new-account", "newOrder": b + "/new-order",
             "revokeCert": b + "/revoke", "keyChange": b + "/key-change", "meta": {"termsOfService": b + "/tos"}}
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

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        if self.path == "/dir":
            return self.send(200, self.directory())
        if self.path == "/nonce":
            return self.send(200, b"", "text/plain")
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
        if self.path == "/new-account":
            if self.mode == "non-json-error":
                return self.send(500, b"<html><body><h1>Internal Server Error</h1>oops</body></html>", "text/html")
            return self.send(201, {"status": "valid", "contact": payload.get("contact", []) if payload else []},
                             headers={"Location": b + "/acct/1"})
        if self.path == "/new-order":
            if self.mode == "oversized":
                big = {"status": "pending", "padding": "x" * (4 << 20)}
                return self.send(201, big, headers={"Location": b + "/order/1"})
            ids = payload.get("identifiers", []) if isinstance(payload, dict) else []
            extra = {k: payload[k] for k in ("profile", "replaces") if isinstance(payload, dict) and k in payload}
            return self.send(201, self.order(ids, extra), headers={"Location": b + "/order/1"})
        if self.path == "/order/1":
            return self.send(200, self.order([{"type": "dns", "value": "a.example.com"}]))
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
    os.makedirs(a.dir, exist_ok=True)
    make_ca(a.dir, "ca", "stand-in TLS CA")
    make_leaf(a.dir, "server", "ca", "localhost", "DNS:localhost,IP:127.0.0.1")
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
