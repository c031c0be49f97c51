"""SDP rewriting for servers behind a 1:1 NAT (a cloud VM with an elastic IP, a container with published ports).

aioice only knows the addresses of the machine's own interfaces. Behind a NAT that maps a public address onto the
private one port for port, the browser must be told the public address: ``announce_public_ip`` rewrites every
host candidate of the answer (and its ``c=`` lines) to ``RTC_PUBLIC_IP``. The sockets stay bound to the private
address; the NAT takes the packets from one to the other.
"""

from __future__ import annotations

import ipaddress


def announce_public_ip(sdp: str, public_ip: str | None) -> str:
    """``sdp`` with every host candidate's address (and each ``c=`` line) replaced by ``public_ip``."""
    if not public_ip:
        return sdp
    family = "IP6" if ipaddress.ip_address(public_ip).version == 6 else "IP4"
    newline = "\r\n" if "\r\n" in sdp else "\n"
    lines = []
    for line in sdp.split(newline):
        if line.startswith("a=candidate:"):
            fields = line.split(" ")
            # a=candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ...
            if len(fields) >= 8 and fields[6] == "typ" and fields[7] == "host":
                fields[4] = public_ip
                line = " ".join(fields)
        elif line.startswith("c=IN "):
            line = f"c=IN {family} {public_ip}"
        lines.append(line)
    return newline.join(lines)
