"""Reading and rewriting SDP: what an offer must hold, whether an answer can be reached, and rewriting for
servers behind a 1:1 NAT (a cloud VM with an elastic IP, a container with published ports).

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


def media_kinds(sdp: str) -> list[str]:
    """The kind of each media section (``m=`` line) of an SDP, in order: ``["audio"]``, ``["audio", "video"]``..."""
    return [line[2:].split(" ", 1)[0] for line in sdp.splitlines() if line.startswith("m=")]


def has_host_candidate(sdp: str) -> bool:
    """Whether an SDP carries at least one host ICE candidate. aioice leaves every candidate out when it could
    not bind a media socket (every port of ``RTC_PORT_MIN``..``RTC_PORT_MAX`` taken): such an answer cannot
    connect."""
    for line in sdp.splitlines():
        fields = line.split(" ")
        if line.startswith("a=candidate:") and len(fields) >= 8 and fields[6] == "typ" and fields[7] == "host":
            return True
    return False
