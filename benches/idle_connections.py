"""Opens N connections to 127.0.0.1:PORT that send nothing, holds them for SECONDS,
then says how many the server has closed by then (benches/overload.sh: a server must
close them once request_header_timeout_ms has passed, 10 s by default).

    python3 benches/idle_connections.py PORT N SECONDS
"""

import socket
import sys
import time

port, n, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
print(f"opened {len(held)} connections that send nothing", flush=True)
time.sleep(seconds)
closed = 0
for s in held:
    s.setblocking(False)
    try:
        if s.recv(1) == b"":
            closed += 1
    except BlockingIOError:
        pass
    except OSError:
        closed += 1
print(f"closed by the server after {seconds:.0f} s: {closed} of {len(held)}")
