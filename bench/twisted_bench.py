#!/usr/bin/python3
"""twisted_bench.py: the seed, Twisted's MemoryIOSystem, on memio-bench's paths.

Measures, pinned to one CPU, the median of several repetitions of the
same paths as bench/memio_bench.c: inject+read (Tunnel.addToReadBuffer,
then MemoryIOSystem.read), send_udp+read (sendUDP, read), write+take
(write, Tunnel.writeBuffer.popleft) and write+receive_udp (write, then
receiveUDP's port .recv), with 46- and 1486-byte IP packets carrying valid
checksums, on TUN and TAP; and a fresh device (a new system,
registerSpecialDevice, open, TUNSETIFF, close).

Twisted refuses writes over 1024 bytes (Tunnel.SEND_BUFFER_SIZE, a
difference from the kernel); the 1486-byte write rows lift that limit on
the measured tunnel so that they can be compared at all.

With --memio FILE (memio-bench --results FILE), prints the ratio
twisted/memio: how many times faster memio is on the same path.  Prints
figures only; never fails on a clock.
"""
import argparse
import os
import statistics
import struct
import sys
import time

try:
    from twisted.pair.testing import MemoryIOSystem, Tunnel, _ethernet, _ip, _udp
    from twisted.pair.tuntap import TunnelFlags, _TUNSETIFF
except ImportError as e:  # pragma: no cover - reported, not hidden
    print(f"twisted: skipped: {e} (install python3-twisted)")
    sys.exit(0)

IFNAMSIZ = 16
SIZES = (46, 1486)
PATHS = ("inject+read", "send_udp+read", "write+take", "write+receive_udp")


def udp_packet(size, src, sport, dst, dport):
    """An IPv4/UDP packet of exactly `size` bytes, with valid checksums."""
    payload = bytes((i * 7 + 1) & 0xFF for i in range(size - 28))
    return _ip(src=src, dst=dst, payload=_udp(src=sport, dst=dport, payload=payload))


def open_tunnel(system, tap):
    """Opens and configures one tunnel, as TuntapPort does; returns the fd."""
    mode = (TunnelFlags.IFF_TAP if tap else TunnelFlags.IFF_TUN) | TunnelFlags.IFF_NO_PI
    fd = system.open(Tunnel._DEVICE_NAME, system.O_RDWR | system.O_NONBLOCK)
    system.ioctl(fd, _TUNSETIFF, struct.pack("%dsH" % IFNAMSIZ, b"tun%d", mode.value))
    return fd


def make_path(path, tap, size):
    """Returns a function running n packets of one path on a fresh system."""
    system = MemoryIOSystem()
    system.registerSpecialDevice(Tunnel._DEVICE_NAME, Tunnel)
    fd = open_tunnel(system, tap)
    tunnel = system._openFiles[fd]
    tunnel.SEND_BUFFER_SIZE = 1 << 16  # see the module's docstring
    read, write = system.read, system.write
    limit = 1 << 16
    packet_in = udp_packet(size, "10.0.0.1", 5000, "10.0.0.2", 4000)
    # receiveUDP's port dispatches to port 12345 only.
    packet_out = udp_packet(size, "10.0.0.2", 4000, "10.0.0.1", 12345)
    if tap:
        packet_out = _ethernet(src=b"\x02\x00\x00\x00\x00\x02", dst=b"\x02\x6d\x69\x6f\x00\x02",
                               protocol=0x0800, payload=packet_out)
    payload = b"\x5a" * (size - 28)

    if path == "inject+read":
        add = tunnel.addToReadBuffer

        def run(n):
            for _ in range(n):
                add(packet_in)
                read(fd, limit)
    elif path == "send_udp+read":
        send = system.sendUDP
        to = ("10.0.0.2", 4000)

        def run(n):
            for _ in range(n):
                send(payload, to)
                read(fd, limit)
    elif path == "write+take":
        take = tunnel.writeBuffer.popleft

        def run(n):
            for _ in range(n):
                write(fd, packet_out)
                take()
    else:
        recv = system.receiveUDP(fd, "10.0.0.1", 12345).recv

        def run(n):
            for _ in range(n):
                write(fd, packet_out)
                recv(limit)
    return run


def make_fresh(tap):
    """Returns a function making n fresh devices."""
    def run(n):
        for _ in range(n):
            system = MemoryIOSystem()
            system.registerSpecialDevice(Tunnel._DEVICE_NAME, Tunnel)
            system.close(open_tunnel(system, tap))
    return run


def measure(run, n, reps):
    """Median ns per operation over `reps` repetitions of n, after a warm-up."""
    run(n // 10 + 1)
    per = []
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        run(n)
        per.append((time.perf_counter_ns() - t0) / n)
    return statistics.median(per)


def read_memio(path):
    figures = {}
    with open(path) as f:
        for line in f:
            key, _, ns = line.strip().partition("\t")
            if ns:
                figures[key] = float(ns)
    return figures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", "--iterations", type=int, default=50000)
    ap.add_argument("-r", "--reps", type=int, default=7)
    ap.add_argument("--fresh", type=int, default=20000)
    ap.add_argument("--memio", help="memio-bench --results file, for the ratios")
    args = ap.parse_args()
    if args.reps < 5:
        ap.error("need at least 5 repetitions")
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[-1]})
    memio = read_memio(args.memio) if args.memio else {}

    import twisted
    print(f"\nTwisted {twisted.__version__} MemoryIOSystem (Python {sys.version.split()[0]}), "
          f"pinned to CPU {cpus[-1]}, median of {args.reps}")
    print(f"{'path':<28} {'ns/op':>11} {'ops/s':>13} {'memio ns/op':>12} {'twisted/memio':>14}")
    for tap in (False, True):
        dev = "tap" if tap else "tun"
        rows = [(f"{dev}/{p}/{s}", make_path(p, tap, s), args.iterations)
                for p in PATHS for s in SIZES]
        rows.append((f"{dev}/fresh", make_fresh(tap), args.fresh))
        for key, run, n in rows:
            ns = measure(run, n, args.reps)
            m = memio.get(key)
            ratio = f"{ns / m:.1f}x" if m else "-"
            mcol = f"{m:.1f}" if m else "-"
            print(f"{key:<28} {ns:11.1f} {1e9 / ns:13.0f} {mcol:>12} {ratio:>14}")
    print("twisted/memio: how many times faster memio is than Twisted on the same path.\n"
          "Twisted does less on each: no checksum check on read or write, a constant\n"
          "source address and port, no queue limits, and its 1024-byte write cap lifted.")


if __name__ == "__main__":
    main()
