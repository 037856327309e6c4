#!/usr/bin/env python3
"""Prints N distinct free loopback ports, one a line (N = the first argument, 1 by default).

They are drawn at random below Linux's ephemeral range (32768-60999) and above the tests' own
range (tests/Quiz.Ranking.Tests/RedisServerFixture.cs, 20000-32767). A port the kernel picked
(bind to port 0) is in the ephemeral range: between the pick and the server's bind, seconds later
for RabbitMQ after Erlang boots, any outgoing connection may take it as its local port, and the
server fails with eaddrinuse (the fresh-clone CI of f05ba79 lost its whole cluster suite so). The
kernel never gives these ports to outgoing connections, so a node restarted on its old port finds
it free too.
"""
import random
import socket
import sys

LOW, HIGH = 10000, 20000
count = int(sys.argv[1]) if len(sys.argv) > 1 else 1
picked = []
for port in random.sample(range(LOW, HIGH), HIGH - LOW):
    if len(picked) == count:
        break
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    picked.append(port)
if len(picked) < count:
    sys.exit(f"free-ports: only {len(picked)} of {count} free loopback ports between {LOW} and {HIGH - 1}")
print("\n".join(map(str, picked)))
