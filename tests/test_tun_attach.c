/*
 * test_tun_attach.c — the memory device before TUNSETIFF, TUNSETIFF's naming
 * and attach rules, and the ioctls of an attached descriptor: rows A, B and
 * C of kernel-tun-semantics.md, each test citing its case ids.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "testutil.h"

struct fixture {
    memio_sys *sys;
    int fd; /* open, not attached */
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    fx->sys = tu_memory();
    fx->fd = memio_open(fx->sys, "/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    assert_true(fx->fd >= 0);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    memio_sys_free(fx->sys);
    free(fx);
    return 0;
}

#define FX struct fixture *fx = *state
/* --- A: before TUNSETIFF ------------------------------------------------ */

/* A01: open with O_RDWR|O_NONBLOCK|O_CLOEXEC gives a descriptor (>= 8192 in memory). */
static void test_open_tun_gives_descriptor_from_8192(void **state)
{
    FX;
    assert_int_equal(fx->fd, 8192);
}

/* A02, A03: F_GETFD is FD_CLOEXEC; F_GETFL is 0x8802 (O_LARGEFILE included). */
static void test_fcntl_reports_cloexec_and_kernel_file_flags(void **state)
{
    FX;
    assert_int_equal(memio_fcntl(fx->sys, fx->fd, F_GETFD), FD_CLOEXEC);
    assert_int_equal(memio_fcntl(fx->sys, fx->fd, F_GETFL), 0x8802);
}

/* A04, A05: read before TUNSETIFF is EBADFD, even for 0 bytes. */
static void test_read_before_attach_is_ebadfd(void **state)
{
    FX;
    char buf[2048];
    ASSERT_ERR(memio_read(fx->sys, fx->fd, buf, sizeof(buf)), EBADFD);
    ASSERT_ERR(memio_read(fx->sys, fx->fd, buf, 0), EBADFD);
}

/* A06, A07: write before TUNSETIFF is EBADFD, even for 0 bytes. */
static void test_write_before_attach_is_ebadfd(void **state)
{
    FX;
    ASSERT_ERR(memio_write(fx->sys, fx->fd, "\x45\0\0\0", 4), EBADFD);
    ASSERT_ERR(memio_write(fx->sys, fx->fd, "", 0), EBADFD);
}

/* A08, A12, A13, A14, A17, A23: every attached-only ioctl is EBADFD. */
static void test_ioctls_before_attach_are_ebadfd(void **state)
{
    FX;
    struct ifreq ifr;
    int v = 0;
    ASSERT_ERR(memio_ioctl(fx->sys, fx->fd, TUNGETIFF, &ifr), EBADFD);
    ASSERT_ERR(memio_ioctl(fx->sys, fx->fd, TUNSETPERSIST, 1), EBADFD);
    ASSERT_ERR(memio_ioctl(fx->sys, fx->fd, TUNGETSNDBUF, &v), EBADFD);
    ASSERT_ERR(memio_ioctl(fx->sys, fx->fd, TUNGETVNETHDRSZ, &v), EBADFD);
    ASSERT_ERR(memio_ioctl(fx->sys, fx->fd, FIONREAD, &v), EBADFD);
    ASSERT_ERR(memio_ioctl(fx->sys, fx->fd, TUNGETDEVNETNS), EBADFD);
}

/* A09, A10: TUNGETFEATURES works before attach: 0x7173, without IFF_TUN_EXCL; NULL is EFAULT. */
static void test_getfeatures_before_attach_is_0x7173(void **state)
{
    FX;
    unsigned int feat = 0;
    assert_int_equal(memio_ioctl(fx->sys, fx->fd, TUNGETFEATURES, &feat), 0);
    assert_int_equal(feat, 0x7173);
    assert_int_equal(feat & IFF_TUN_EXCL, 0);
    ASSERT_ERR(memio_ioctl(fx->sys, fx->fd, TUNGETFEATURES, NULL), EFAULT);
}

/* A11, H10: poll before attach reports POLLERR only, whatever was asked. */
static void test_poll_before_attach_is_pollerr(void **state)
{
    FX;
    struct pollfd p = {.fd = fx->fd, .events = POLLIN | POLLOUT};
    assert_int_equal(memio_poll(fx->sys, &p, 1, 0), 1);
    assert_int_equal(p.revents, 0x8);
    p.events = 0;
    assert_int_equal(memio_poll(fx->sys, &p, 1, 0), 1);
    assert_int_equal(p.revents, 0x8);
}

/* A15, A16: unknown requests and TCGETS (isatty) are EBADFD before attach, never ENOTTY. */
static void test_unknown_ioctl_before_attach_is_ebadfd(void **state)
{
    FX;
    struct termios tio;
    ASSERT_ERR(memio_ioctl(fx->sys, fx->fd, 0xDEADBEEF, NULL), EBADFD);
    ASSERT_ERR(memio_ioctl(fx->sys, fx->fd, TCGETS, &tio), EBADFD);
}

/* A18: TUNSETIFF with a NULL ifreq is EFAULT. */
static void test_setiff_null_is_efault(void **state)
{
    FX;
    ASSERT_ERR(memio_ioctl(fx->sys, fx->fd, TUNSETIFF, NULL), EFAULT);
}

/* A24, A25: an O_RDONLY descriptor attaches (ioctl ignores the mode); write is EBADF. */
static void test_rdonly_descriptor_attaches_but_cannot_write(void **state)
{
    FX;
    int fd = memio_open(fx->sys, "/dev/net/tun", O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(tu_setiff(fx->sys, fd, "ro0", IFF_TUN | IFF_NO_PI, NULL), 0);
    ASSERT_ERR(memio_write(fx->sys, fd, "\x45", 1), EBADF);
}

/* A26: an O_WRONLY descriptor attaches; read is EBADF. */
static void test_wronly_descriptor_attaches_but_cannot_read(void **state)
{
    FX;
    char buf[64];
    int fd = memio_open(fx->sys, "/dev/net/tun", O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(tu_setiff(fx->sys, fd, "wo0", IFF_TUN | IFF_NO_PI, NULL), 0);
    ASSERT_ERR(memio_read(fx->sys, fd, buf, sizeof(buf)), EBADF);
}

/* --- B: TUNSETIFF -------------------------------------------------------- */

static void expect_attach(memio_sys *sys, int fd, const char *name, int flags,
                          const char *want_name, int want_getiff)
{
    struct ifreq ifr, got;
    assert_int_equal(tu_setiff(sys, fd, name, flags, &ifr), 0);
    assert_string_equal(ifr.ifr_name, want_name);
    /* The kernel copies the ifreq back with the flags unchanged (B01). */
    assert_int_equal((unsigned short)ifr.ifr_flags, (unsigned short)flags);
    memset(&got, 0, sizeof(got));
    assert_int_equal(memio_ioctl(sys, fd, TUNGETIFF, &got), 0);
    assert_string_equal(got.ifr_name, want_name);
    assert_int_equal((unsigned short)got.ifr_flags, want_getiff);
}

static int new_fd(memio_sys *sys)
{
    int fd = memio_open(sys, "/dev/net/tun", O_RDWR | O_NONBLOCK);
    assert_true(fd >= 0);
    return fd;
}

/* B01-B04: empty names take the type's template; TUN and TAP count separately. */
static void test_empty_name_takes_lowest_unit_of_type_template(void **state)
{
    FX;
    expect_attach(fx->sys, fx->fd, "", IFF_TUN, "tun0", 0x1001);
    expect_attach(fx->sys, new_fd(fx->sys), "", IFF_TUN | IFF_NO_PI, "tun1", 0x1001);
    expect_attach(fx->sys, new_fd(fx->sys), "", IFF_TAP, "tap0", 0x1002);
    expect_attach(fx->sys, new_fd(fx->sys), "", IFF_TAP | IFF_NO_PI, "tap1", 0x1002);
}

/* B05, B06: neither IFF_TUN nor IFF_TAP is EINVAL, and the ifreq is not rewritten. */
static void test_setiff_without_type_is_einval(void **state)
{
    FX;
    struct ifreq ifr;
    ASSERT_ERR(tu_setiff(fx->sys, fx->fd, "x0", IFF_NO_PI, &ifr), EINVAL);
    assert_string_equal(ifr.ifr_name, "x0");
    ASSERT_ERR(tu_setiff(fx->sys, fx->fd, "", 0, &ifr), EINVAL);
}

/* B07: IFF_TUN|IFF_TAP makes a TUN; TUNGETIFF shows 0x1001. */
static void test_tun_and_tap_bits_make_a_tun(void **state)
{
    FX;
    expect_attach(fx->sys, fx->fd, "both0", IFF_TUN | IFF_TAP | IFF_NO_PI, "both0", 0x1001);
    assert_false(memio_tunnel_is_tap(memio_tunnel_get(fx->sys, fx->fd)));
}

/* B08, B09: a template's lowest free unit; a TAP may use the tun template. */
static void test_template_lowest_free_unit_shared_by_tun_and_tap(void **state)
{
    FX;
    tu_tun(fx->sys, O_RDWR, "tun%d", IFF_TUN | IFF_NO_PI);
    tu_tun(fx->sys, O_RDWR, "tun%d", IFF_TUN | IFF_NO_PI);
    expect_attach(fx->sys, fx->fd, "tun%d", IFF_TUN | IFF_NO_PI, "tun2", 0x1001);
    expect_attach(fx->sys, new_fd(fx->sys), "tun%d", IFF_TAP | IFF_NO_PI, "tun3", 0x1002);
}

/* B10, B13, B14: other templates, a bare %d, explicit names. */
static void test_other_templates_and_explicit_names(void **state)
{
    FX;
    expect_attach(fx->sys, fx->fd, "vpn%d", IFF_TUN, "vpn0", 0x1001);
    expect_attach(fx->sys, new_fd(fx->sys), "%d", IFF_TUN, "0", 0x1001);
    expect_attach(fx->sys, new_fd(fx->sys), "mytun", IFF_TUN, "mytun", 0x1001);
}

/* B11, B12: a template needs exactly one %d. */
static void test_bad_templates_are_einval(void **state)
{
    FX;
    ASSERT_ERR(tu_setiff(fx->sys, fx->fd, "a%d%d", IFF_TUN, NULL), EINVAL);
    ASSERT_ERR(tu_setiff(fx->sys, fx->fd, "a%s", IFF_TUN, NULL), EINVAL);
}

/* B15, B16: a 16-byte name without NUL is cut to 15 bytes; 15 is fine. */
static void test_sixteen_byte_name_is_cut_to_fifteen(void **state)
{
    FX;
    struct ifreq ifr;
    memio_tunnel *t;
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, "abcdefghijklmnop", 16);
    ifr.ifr_flags = IFF_TUN;
    assert_int_equal(memio_ioctl(fx->sys, fx->fd, TUNSETIFF, &ifr), 0);
    assert_string_equal(ifr.ifr_name, "abcdefghijklmno");
    t = memio_tunnel_get(fx->sys, fx->fd);
    assert_string_equal(memio_tunnel_name(t), "abcdefghijklmno");
    assert_string_equal(memio_tunnel_requested_name(t), "abcdefghijklmno");
    expect_attach(fx->sys, new_fd(fx->sys), "zbcdefghijklmno", IFF_TUN, "zbcdefghijklmno",
                  0x1001);
}

/* B17-B21: '/', ':', white space, "." and ".." are not valid names. */
static void test_invalid_names_are_einval(void **state)
{
    FX;
    static const char *const bad[] = {"a/b", "a:b", "a b", ".", "..", "a\tb"};
    struct ifreq ifr;
    size_t i;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ASSERT_ERR(tu_setiff(fx->sys, fx->fd, bad[i], IFF_TUN, &ifr), EINVAL);
        assert_string_equal(ifr.ifr_name, bad[i]);
    }
}

/* B22, B23: "lo" exists in every namespace: EINVAL, or EBUSY with IFF_TUN_EXCL. */
static void test_lo_is_taken(void **state)
{
    FX;
    ASSERT_ERR(tu_setiff(fx->sys, fx->fd, "lo", IFF_TUN, NULL), EINVAL);
    ASSERT_ERR(tu_setiff(fx->sys, fx->fd, "lo", IFF_TUN | IFF_TUN_EXCL, NULL), EBUSY);
}

/* B24, B25: one TUNSETIFF per descriptor: EEXIST, whatever the name. */
static void test_second_setiff_on_same_fd_is_eexist(void **state)
{
    FX;
    assert_int_equal(tu_setiff(fx->sys, fx->fd, "twice0", IFF_TUN, NULL), 0);
    ASSERT_ERR(tu_setiff(fx->sys, fx->fd, "twice1", IFF_TUN, NULL), EEXIST);
    ASSERT_ERR(tu_setiff(fx->sys, fx->fd, "twice0", IFF_TUN, NULL), EEXIST);
    errno = 0;
    assert_null(memio_tunnel_lookup(fx->sys, "twice1"));
    assert_int_equal(errno, ENODEV);
}

/* B26-B31: a second descriptor on an attached single-queue device; failures
 * leave the descriptor reusable. */
static void test_second_fd_on_attached_device_rules(void **state)
{
    FX;
    int fd2 = new_fd(fx->sys);
    assert_int_equal(tu_setiff(fx->sys, fx->fd, "dup0", IFF_TUN | IFF_NO_PI, NULL), 0);
    tu_tun(fx->sys, O_RDWR, "tun%d", IFF_TUN);
    tu_tun(fx->sys, O_RDWR, "tun%d", IFF_TUN);
    ASSERT_ERR(tu_setiff(fx->sys, fd2, "dup0", IFF_TUN | IFF_NO_PI, NULL), EBUSY);     /* B26 */
    ASSERT_ERR(tu_setiff(fx->sys, fd2, "dup0", IFF_TAP | IFF_NO_PI, NULL), EINVAL);    /* B27 */
    ASSERT_ERR(tu_setiff(fx->sys, fd2, "dup0", IFF_TUN | IFF_MULTI_QUEUE, NULL), EINVAL); /* B28 */
    ASSERT_ERR(tu_setiff(fx->sys, fd2, "dup0", IFF_TUN | IFF_TUN_EXCL, NULL), EBUSY);  /* B29 */
    ASSERT_ERR(tu_setiff(fx->sys, fd2, "dup0", IFF_TUN, NULL), EBUSY);                 /* B30 */
    expect_attach(fx->sys, fd2, "tun%d", IFF_TUN | IFF_NO_PI, "tun2", 0x1001);         /* B31 */
}

/* B47, B48: unknown bits, IFF_PERSIST and IFF_ATTACH_QUEUE in TUNSETIFF are
 * ignored, echoed back unchanged, and kept by memio_tunnel_flags. */
static void test_unknown_setiff_bits_ignored_but_echoed(void **state)
{
    FX;
    int flags = IFF_TUN | IFF_NO_PI | 0x4 | 0x8 | 0x80 | IFF_PERSIST | IFF_ATTACH_QUEUE;
    memio_tunnel *t;
    expect_attach(fx->sys, fx->fd, "junk0", flags, "junk0", 0x1001);
    t = memio_tunnel_get(fx->sys, fx->fd);
    assert_int_equal(memio_tunnel_flags(t), 0x1a8d);
    assert_int_equal(memio_close(fx->sys, fx->fd), 0);
    assert_false(memio_tunnel_exists(t)); /* B48: not persistent */
}

/* B53, B54: a closed device's name is free again, its ifindex is not reused. */
static void test_closed_name_reused_ifindex_not(void **state)
{
    FX;
    memio_tunnel *a, *b;
    int fd;
    assert_int_equal(tu_setiff(fx->sys, fx->fd, "tun%d", IFF_TUN, NULL), 0);
    a = memio_tunnel_get(fx->sys, fx->fd);
    assert_string_equal(memio_tunnel_name(a), "tun0");
    assert_int_equal(memio_close(fx->sys, fx->fd), 0);
    assert_false(memio_tunnel_exists(a)); /* B54 */
    fd = tu_tun(fx->sys, O_RDWR, "tun%d", IFF_TUN);
    b = memio_tunnel_get(fx->sys, fd);
    assert_string_equal(memio_tunnel_name(b), "tun0");
    assert_true(memio_tunnel_ifindex(b) > memio_tunnel_ifindex(a));
    /* The old pointer stays valid and names the gone device. */
    assert_string_equal(memio_tunnel_name(a), "tun0");
}

/* B42, B43 (and B44): IFF_NAPI_FRAGS needs IFF_NAPI and a TAP. */
static void test_napi_frags_needs_napi_and_tap(void **state)
{
    FX;
    ASSERT_ERR(tu_setiff(fx->sys, fx->fd, "", IFF_TUN | IFF_NAPI | IFF_NAPI_FRAGS, NULL), EINVAL);
    ASSERT_ERR(tu_setiff(fx->sys, fx->fd, "", IFF_TAP | IFF_NAPI_FRAGS, NULL), EINVAL);
    expect_attach(fx->sys, fx->fd, "", IFF_TAP | IFF_NAPI | IFF_NAPI_FRAGS, "tap0", 0x1032);
}

/* The accessors: open flags of the creating fd, requested name, flags as given. */
static void test_tunnel_accessors_report_what_program_asked(void **state)
{
    FX;
    memio_tunnel *t;
    assert_int_equal(tu_setiff(fx->sys, fx->fd, "acc%d", IFF_TAP, NULL), 0);
    t = memio_tunnel_get(fx->sys, fx->fd);
    assert_non_null(t);
    assert_int_equal(memio_tunnel_open_flags(t), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    assert_string_equal(memio_tunnel_requested_name(t), "acc%d");
    assert_string_equal(memio_tunnel_name(t), "acc0");
    assert_int_equal(memio_tunnel_flags(t), IFF_TAP);
    assert_true(memio_tunnel_is_tap(t));
    assert_ptr_equal(memio_tunnel_lookup(fx->sys, "acc0"), t);
}

/* memio_tunnel_get's errors: EBADF, EBADFD before attach, ENOTTY, EINVAL on os. */
static void test_tunnel_get_errors(void **state)
{
    FX;
    errno = 0;
    assert_null(memio_tunnel_get(fx->sys, fx->fd));
    assert_int_equal(errno, EBADFD);
    errno = 0;
    assert_null(memio_tunnel_get(fx->sys, 9999));
    assert_int_equal(errno, EBADF);
    errno = 0;
    assert_null(memio_tunnel_get(memio_sys_os(), 0));
    assert_int_equal(errno, EINVAL);
}

/* --- C: ioctls on an attached descriptor ------------------------------------ */

/* C01-C04: TUNGETIFF sets 0x1000 (IFF_NOFILTER) whether or not PI is on. */
static void test_getiff_reports_nofilter_bit_with_and_without_pi(void **state)
{
    FX;
    expect_attach(fx->sys, fx->fd, "ctl0", IFF_TUN | IFF_NO_PI, "ctl0", 0x1001);
    expect_attach(fx->sys, new_fd(fx->sys), "ctlpi0", IFF_TUN, "ctlpi0", 0x1001);
    expect_attach(fx->sys, new_fd(fx->sys), "ctltap0", IFF_TAP | IFF_NO_PI, "ctltap0", 0x1002);
    expect_attach(fx->sys, new_fd(fx->sys), "ctltappi0", IFF_TAP, "ctltappi0", 0x1002);
}

/* C06: TUNGETIFF with NULL is EFAULT. C07: TUNGETFEATURES after attach. */
static void test_getiff_null_is_efault_and_features_after_attach(void **state)
{
    FX;
    unsigned int feat = 0;
    tu_setiff(fx->sys, fx->fd, "c6", IFF_TUN, NULL);
    ASSERT_ERR(memio_ioctl(fx->sys, fx->fd, TUNGETIFF, NULL), EFAULT);
    assert_int_equal(memio_ioctl(fx->sys, fx->fd, TUNGETFEATURES, &feat), 0);
    assert_int_equal(feat, 0x7173);
}

/* C23-C29: the send buffer: INT_MAX by default, stored as given, <= 0 EINVAL, NULL EFAULT. */
static void test_sndbuf_rules(void **state)
{
    FX;
    int v = 0;
    tu_setiff(fx->sys, fx->fd, "snd0", IFF_TUN, NULL);
    assert_int_equal(memio_ioctl(fx->sys, fx->fd, TUNGETSNDBUF, &v), 0);
    assert_int_equal(v, 2147483647);
    v = 0;
    ASSERT_ERR(memio_ioctl(fx->sys, fx->fd, TUNSETSNDBUF, &v), EINVAL);
    v = -1;
    ASSERT_ERR(memio_ioctl(fx->sys, fx->fd, TUNSETSNDBUF, &v), EINVAL);
    v = 4096;
    assert_int_equal(memio_ioctl(fx->sys, fx->fd, TUNSETSNDBUF, &v), 0);
    v = 0;
    assert_int_equal(memio_ioctl(fx->sys, fx->fd, TUNGETSNDBUF, &v), 0);
    assert_int_equal(v, 4096);
    v = 1;
    assert_int_equal(memio_ioctl(fx->sys, fx->fd, TUNSETSNDBUF, &v), 0);
    assert_int_equal(memio_ioctl(fx->sys, fx->fd, TUNGETSNDBUF, &v), 0);
    assert_int_equal(v, 1);
    ASSERT_ERR(memio_ioctl(fx->sys, fx->fd, TUNSETSNDBUF, NULL), EFAULT);
    ASSERT_ERR(memio_ioctl(fx->sys, fx->fd, TUNGETSNDBUF, NULL), EFAULT);
}

/* C52-C54: unknown requests, TCGETS and FIONREAD are EINVAL after attach (never ENOTTY). */
static void test_unknown_ioctl_after_attach_is_einval(void **state)
{
    FX;
    struct termios tio;
    int v;
    tu_setiff(fx->sys, fx->fd, "unk0", IFF_TUN, NULL);
    ASSERT_ERR(memio_ioctl(fx->sys, fx->fd, 0xDEADBEEF, NULL), EINVAL);
    ASSERT_ERR(memio_ioctl(fx->sys, fx->fd, TCGETS, &tio), EINVAL);
    ASSERT_ERR(memio_ioctl(fx->sys, fx->fd, FIONREAD, &v), EINVAL);
}

/* C62: other socket ioctls on a tun fd are EINVAL; NULL is EFAULT (copied first). */
static void test_socket_ioctl_on_tun_fd_is_einval(void **state)
{
    FX;
    struct ifreq ifr;
    tu_setiff(fx->sys, fx->fd, "sk0", IFF_TUN, NULL);
    memset(&ifr, 0, sizeof(ifr));
    ASSERT_ERR(memio_ioctl(fx->sys, fx->fd, SIOCGIFFLAGS, &ifr), EINVAL);
    ASSERT_ERR(memio_ioctl(fx->sys, fx->fd, SIOCGIFFLAGS, NULL), EFAULT);
}

/* C58, C61: SIOCGIFHWADDR on the tun fd: the TAP's MAC (family 1), ARPHRD_NONE on a TUN. */
static void test_hwaddr_on_tun_fd(void **state)
{
    FX;
    struct ifreq ifr;
    uint8_t mac[6];
    int fd2;
    tu_setiff(fx->sys, fx->fd, "hw0", IFF_TAP, NULL);
    memset(&ifr, 0, sizeof(ifr));
    assert_int_equal(memio_ioctl(fx->sys, fx->fd, SIOCGIFHWADDR, &ifr), 0);
    assert_int_equal(ifr.ifr_hwaddr.sa_family, ARPHRD_ETHER);
    memio_tunnel_mac(memio_tunnel_get(fx->sys, fx->fd), mac);
    assert_memory_equal(ifr.ifr_hwaddr.sa_data, mac, 6);
    fd2 = tu_tun(fx->sys, O_RDWR, "hw1", IFF_TUN);
    memset(&ifr, 0, sizeof(ifr));
    assert_int_equal(memio_ioctl(fx->sys, fd2, SIOCGIFHWADDR, &ifr), 0);
    assert_int_equal(ifr.ifr_hwaddr.sa_family, ARPHRD_NONE);
}

/* C59, C60: SIOCSIFHWADDR sets the TAP's MAC; a multicast MAC is EADDRNOTAVAIL. */
static void test_set_hwaddr_on_tap_fd(void **state)
{
    FX;
    static const uint8_t want[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
    struct ifreq ifr;
    uint8_t mac[6];
    tu_setiff(fx->sys, fx->fd, "hw2", IFF_TAP, NULL);
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    memcpy(ifr.ifr_hwaddr.sa_data, want, 6);
    assert_int_equal(memio_ioctl(fx->sys, fx->fd, SIOCSIFHWADDR, &ifr), 0);
    memio_tunnel_mac(memio_tunnel_get(fx->sys, fx->fd), mac);
    assert_memory_equal(mac, want, 6);
    ifr.ifr_hwaddr.sa_data[0] = 0x01;
    ASSERT_ERR(memio_ioctl(fx->sys, fx->fd, SIOCSIFHWADDR, &ifr), EADDRNOTAVAIL);
    memio_tunnel_mac(memio_tunnel_get(fx->sys, fx->fd), mac);
    assert_memory_equal(mac, want, 6);
}

/* C66, C67: FIONBIO toggles O_NONBLOCK, before or after attach. */
static void test_fionbio_toggles_nonblock(void **state)
{
    FX;
    int v = 0;
    assert_int_equal(memio_ioctl(fx->sys, fx->fd, FIONBIO, &v), 0);
    assert_int_equal(memio_fcntl(fx->sys, fx->fd, F_GETFL), 0x8002);
    v = 1;
    assert_int_equal(memio_ioctl(fx->sys, fx->fd, FIONBIO, &v), 0);
    assert_int_equal(memio_fcntl(fx->sys, fx->fd, F_GETFL), 0x8802);
    ASSERT_ERR(memio_ioctl(fx->sys, fx->fd, FIONBIO, NULL), EFAULT);
}

/* C73: TUNSETIFF NULL on an attached fd is EFAULT: the copy precedes EEXIST. */
static void test_setiff_null_on_attached_fd_is_efault(void **state)
{
    FX;
    tu_setiff(fx->sys, fx->fd, "c73", IFF_TUN, NULL);
    ASSERT_ERR(memio_ioctl(fx->sys, fx->fd, TUNSETIFF, NULL), EFAULT);
}

/* C13-C16: TUNSETPERSIST takes the value: &zero means on; 0 (and NULL) off;
 * high bits count.  TUNGETIFF then shows IFF_PERSIST. */
static void test_setpersist_takes_value_not_pointer(void **state)
{
    FX;
    struct ifreq ifr;
    int zero = 0;
    tu_setiff(fx->sys, fx->fd, "ps0", IFF_TUN | IFF_NO_PI, NULL);
    assert_int_equal(memio_ioctl(fx->sys, fx->fd, TUNSETPERSIST, 1), 0);
    assert_int_equal(memio_ioctl(fx->sys, fx->fd, TUNGETIFF, &ifr), 0);
    assert_int_equal((unsigned short)ifr.ifr_flags, 0x1801);
    assert_int_equal(memio_ioctl(fx->sys, fx->fd, TUNSETPERSIST, 0), 0);
    assert_int_equal(memio_ioctl(fx->sys, fx->fd, TUNGETIFF, &ifr), 0);
    assert_int_equal((unsigned short)ifr.ifr_flags, 0x1001);
    assert_int_equal(memio_ioctl(fx->sys, fx->fd, TUNSETPERSIST, &zero), 0);
    assert_int_equal(memio_ioctl(fx->sys, fx->fd, TUNGETIFF, &ifr), 0);
    assert_int_equal((unsigned short)ifr.ifr_flags, 0x1801);
    assert_int_equal(memio_ioctl(fx->sys, fx->fd, TUNSETPERSIST, NULL), 0);
    assert_int_equal(memio_ioctl(fx->sys, fx->fd, TUNSETPERSIST, 0x100000000ul), 0);
    assert_int_equal(memio_ioctl(fx->sys, fx->fd, TUNGETIFF, &ifr), 0);
    assert_int_equal((unsigned short)ifr.ifr_flags, 0x1801);
}

/* I16, I20, I21: a persistent device outlives its fd (carrier off); cleared
 * while attached, it goes with the fd. */
static void test_persistent_device_outlives_fd(void **state)
{
    FX;
    memio_tunnel *t;
    int fd2;
    tu_setiff(fx->sys, fx->fd, "ps1", IFF_TUN | IFF_NO_PI, NULL);
    t = memio_tunnel_get(fx->sys, fx->fd);
    assert_int_equal(memio_ioctl(fx->sys, fx->fd, TUNSETPERSIST, 1), 0);
    assert_int_equal(memio_close(fx->sys, fx->fd), 0);
    assert_true(memio_tunnel_exists(t));
    assert_false(memio_tunnel_carrier(t));
    assert_ptr_equal(memio_tunnel_lookup(fx->sys, "ps1"), t);
    fd2 = tu_tun(fx->sys, O_RDWR, "ps1", IFF_TUN | IFF_NO_PI);
    assert_ptr_equal(memio_tunnel_get(fx->sys, fd2), t);
    assert_true(memio_tunnel_carrier(t));
    assert_int_equal(memio_ioctl(fx->sys, fd2, TUNSETPERSIST, 0), 0);
    assert_true(memio_tunnel_exists(t));
    assert_int_equal(memio_close(fx->sys, fd2), 0);
    assert_false(memio_tunnel_exists(t));
}

/* TUNGETVNETHDRSZ defaults to 10 (C30); TUNSETCARRIER takes a pointer (C49-C51). */
static void test_vnet_hdr_size_default_and_carrier_pointer(void **state)
{
    FX;
    int v = 0;
    memio_tunnel *t;
    tu_setiff(fx->sys, fx->fd, "car0", IFF_TUN, NULL);
    t = memio_tunnel_get(fx->sys, fx->fd);
    assert_int_equal(memio_ioctl(fx->sys, fx->fd, TUNGETVNETHDRSZ, &v), 0);
    assert_int_equal(v, 10);
    v = 0;
    assert_int_equal(memio_ioctl(fx->sys, fx->fd, TUNSETCARRIER, &v), 0);
    assert_false(memio_tunnel_carrier(t));
    v = 7;
    assert_int_equal(memio_ioctl(fx->sys, fx->fd, TUNSETCARRIER, &v), 0);
    assert_true(memio_tunnel_carrier(t));
    ASSERT_ERR(memio_ioctl(fx->sys, fx->fd, TUNSETCARRIER, NULL), EFAULT);
}

/* B45: IFF_NO_CARRIER attaches with the carrier off. */
static void test_no_carrier_flag_starts_without_carrier(void **state)
{
    FX;
    expect_attach(fx->sys, fx->fd, "nc0", IFF_TUN | IFF_NO_PI | IFF_NO_CARRIER, "nc0", 0x1001);
    assert_false(memio_tunnel_carrier(memio_tunnel_get(fx->sys, fx->fd)));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_open_tun_gives_descriptor_from_8192),
        T(test_fcntl_reports_cloexec_and_kernel_file_flags),
        T(test_read_before_attach_is_ebadfd),
        T(test_write_before_attach_is_ebadfd),
        T(test_ioctls_before_attach_are_ebadfd),
        T(test_getfeatures_before_attach_is_0x7173),
        T(test_poll_before_attach_is_pollerr),
        T(test_unknown_ioctl_before_attach_is_ebadfd),
        T(test_setiff_null_is_efault),
        T(test_rdonly_descriptor_attaches_but_cannot_write),
        T(test_wronly_descriptor_attaches_but_cannot_read),
        T(test_empty_name_takes_lowest_unit_of_type_template),
        T(test_setiff_without_type_is_einval),
        T(test_tun_and_tap_bits_make_a_tun),
        T(test_template_lowest_free_unit_shared_by_tun_and_tap),
        T(test_other_templates_and_explicit_names),
        T(test_bad_templates_are_einval),
        T(test_sixteen_byte_name_is_cut_to_fifteen),
        T(test_invalid_names_are_einval),
        T(test_lo_is_taken),
        T(test_second_setiff_on_same_fd_is_eexist),
        T(test_second_fd_on_attached_device_rules),
        T(test_unknown_setiff_bits_ignored_but_echoed),
        T(test_closed_name_reused_ifindex_not),
        T(test_napi_frags_needs_napi_and_tap),
        T(test_tunnel_accessors_report_what_program_asked),
        T(test_tunnel_get_errors),
        T(test_getiff_reports_nofilter_bit_with_and_without_pi),
        T(test_getiff_null_is_efault_and_features_after_attach),
        T(test_sndbuf_rules),
        T(test_unknown_ioctl_after_attach_is_einval),
        T(test_socket_ioctl_on_tun_fd_is_einval),
        T(test_hwaddr_on_tun_fd),
        T(test_set_hwaddr_on_tap_fd),
        T(test_fionbio_toggles_nonblock),
        T(test_setiff_null_on_attached_fd_is_efault),
        T(test_setpersist_takes_value_not_pointer),
        T(test_persistent_device_outlives_fd),
        T(test_vnet_hdr_size_default_and_carrier_pointer),
        T(test_no_carrier_flag_starts_without_carrier),
    };
    return cmocka_run_group_tests_name("tun attach and ioctls (A, B, C)", tests, NULL, NULL);
}
