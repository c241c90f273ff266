"""A stub AWS endpoint on 127.0.0.1 for the clean-interpreter probes (AWS_ENDPOINT_URL points at it).

It answers the JSON protocols the functions use (Secrets Manager GetSecretValue, SQS SendMessage,
DynamoDB TransactWriteItems/UpdateItem/GetItem/Query) from ``common.canned_answer``, at once, so a
probe's first invocation costs what the function does (clients, secret read, one send, each over a
real loopback HTTP connection) and not what an emulator does.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.common import canned_answer


@contextmanager
def stub_endpoint(secret_string: str) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # One write per response (headers + body), flushed by handle_one_request: two small writes on
        # a keep-alive connection would meet Nagle + delayed ACK and add ~40 ms to the client's wait.
        wbufsize = -1

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            try:
                request: dict[str, Any] = json.loads(raw or b"{}")
            except ValueError:
                request = {}
            status, answer = canned_answer(self.headers.get("x-amz-target", ""), request, secret_string)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("content-type", "application/x-amz-json-1.0")
            self.send_header("x-amzn-requestid", "bench")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="stub-aws", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
