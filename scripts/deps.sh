# deps.sh — sourced by the scripts: installs the Debian packages memio needs
# when they are missing (root: apt-get; otherwise it says what to install).
memio_ensure_packages() {
    local missing=()
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "memio: please install: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
        return 1
    fi
    echo "memio: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# What building and testing memio needs.
MEMIO_BUILD_PACKAGES=(gcc make cmake pkg-config libc6-dev libcmocka-dev libpcap-dev)
# tshark: test_packet_tshark checks the builders against Wireshark's
# dissectors; clang + libclang-rt-dev: fuzz/run.sh (libFuzzer).
MEMIO_TEST_PACKAGES=(iproute2 valgrind tshark clang libclang-rt-dev)
# What the benchmark command (scripts/bench.sh) needs besides the build:
# callgrind's instruction counts, and the seed it is compared with.
MEMIO_BENCH_PACKAGES=(valgrind python3 python3-twisted git)
