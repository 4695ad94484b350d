#!/usr/bin/env python3
"""Traffic for tests/show-any.sh: a server and clients that make the connections `tcplab show`
must read back from captures taken by tcpdump and dumpcap (run inside the test's namespaces).

  serve PORT...                 listen on every address (IPv4 and IPv6) on each PORT; prints
                                "ready" once listening. A request line "x" is answered "y",
                                then the server reads to the end and closes; "hold FIFO" waits
                                for a line on FIFO, then the server speaks first.
  many HOST PORT N [RST-EVERY]  N connections one after another (each sends "x", reads "y" and
                                closes; every RST-EVERY-th one closes with an RST)
  hold HOST PORT FIFO           one connection that says "hold FIFO", prints "connected", reads
                                what the server sends once FIFO has a line, answers and closes
"""
import socket
import socketserver
import struct
import sys


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        line = self.rfile.readline().decode().strip()
        if line.startswith("hold "):
            with open(line[5:]) as fifo:
                fifo.readline()
            self.wfile.write(b"late data from the server\n")
            self.wfile.flush()
            self.rfile.readline()
        else:
            self.wfile.write(b"y\n")
            self.wfile.flush()
        try:
            while self.rfile.read(4096):
                pass
        except ConnectionResetError:
            pass  # the clients that close with an RST


class Server(socketserver.ThreadingTCPServer):
    address_family = socket.AF_INET6
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 512

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def serve(ports):
    import threading

    servers = [Server(("::", int(p)), Handler) for p in ports]
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("ready", flush=True)
    servers[0].serve_forever()


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def many(host, port, n, rst_every=0):
    for i in range(1, n + 1):
        s = socket.socket(family(host), socket.SOCK_STREAM)
        s.connect((host, port))
        s.sendall(b"x\n")
        s.recv(16)
        if rst_every and i % rst_every == 0:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()


def hold(host, port, fifo):
    s = socket.socket(family(host), socket.SOCK_STREAM)
    s.connect((host, port))
    s.sendall(("hold %s\n" % fifo).encode())
    print("connected", flush=True)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"thanks\n")
    s.shutdown(socket.SHUT_WR)
    f.read()
    s.close()


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "serve":
        serve(args)
    elif cmd == "many":
        many(args[0], int(args[1]), int(args[2]), int(args[3]) if len(args) > 3 else 0)
    elif cmd == "hold":
        hold(args[0], int(args[1]), args[2])
    else:
        sys.exit(__doc__)
