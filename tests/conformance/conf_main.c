/*
 * conf_main.c — memio-conformance: runs every scenario on the kernel's
 * device (in a private network namespace) and on the memory device,
 * compares what each observed, and prints the table.
 *
 *   memio-conformance            the report: one markdown table, then the
 *                                differences with their reasons
 *   memio-conformance --check    CTest's mode: only differences and the
 *                                closing line; exit 1 on an undocumented
 *                                difference, 77 when the kernel half cannot
 *                                run (not root, no /dev/net/tun)
 *   -v                           every observation of every scenario
 *   ID...                        only the scenarios named
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netns.h"

enum verdict { V_SAME, V_DOCUMENTED, V_BUG, V_WIP, V_DIFFERENT, V_NOT_RUN };

struct result {
    const struct conf_scenario *s;
    struct conf_ctx k, m; /* kernel, memory */
    enum verdict verdict;
    int ran_os, ran_mem;
};

/* Ends a scenario on os: closes what it left open, deletes what is left of
 * its devices, and anything else but lo, so the next one starts fresh. */
static void cleanup(struct conf_ctx *c)
{
    for (int i = c->nfds - 1; i >= 0; i--)
        memio_close(c->sys, c->fds[i]);
    c->nfds = 0;
    if (!c->os)
        return;
    for (int i = 0; i < c->nnames; i++) {
        if (if_nametoindex(c->names[i]) != 0) {
            struct ifreq ifr;
            int fd = memio_open(c->sys, CONF_TUN_PATH, O_RDWR);
            /* A persistent device: attach, clear persistence, close. */
            memset(&ifr, 0, sizeof ifr);
            snprintf(ifr.ifr_name, IFNAMSIZ, "%s", c->names[i]);
            ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
            if (fd >= 0 && (memio_ioctl(c->sys, fd, TUNSETIFF, &ifr) == 0 ||
                            (ifr.ifr_flags = IFF_TAP | IFF_NO_PI,
                             memio_ioctl(c->sys, fd, TUNSETIFF, &ifr) == 0)))
                memio_ioctl(c->sys, fd, TUNSETPERSIST, 0UL);
            if (fd >= 0)
                memio_close(c->sys, fd);
            if (if_nametoindex(c->names[i]) != 0)
                conf_del(c, c->names[i]);
        }
    }
    {
        struct if_nameindex *ifs = if_nameindex();
        for (struct if_nameindex *p = ifs; p && p->if_index; p++)
            if (strcmp(p->if_name, "lo") != 0)
                conf_del(c, p->if_name);
        if (ifs)
            if_freenameindex(ifs);
    }
}

static int run_on(const struct conf_scenario *s, struct conf_ctx *c, int os)
{
    memset(c, 0, sizeof *c);
    c->os = os;
    if (os) {
        c->sys = memio_sys_os();
    } else {
        c->sys = memio_sys_memory();
        if (!c->sys || memio_register_tun(c->sys) != 0) {
            conf_observe(c, "setup", "memory system: %s", strerror(errno));
            return 0;
        }
    }
    s->fn(c);
    if (c->truncated)
        conf_observe(c, "truncated", "more than %d observations", CONF_MAX_OBS);
    cleanup(c);
    if (!os)
        memio_sys_free(c->sys);
    c->sys = NULL;
    return 1;
}

/* The deliberate difference covering (id, label), or NULL. */
static const struct conf_difference *documented(const char *id, const char *label)
{
    for (const struct conf_difference *d = conf_differences; d->id; d++)
        if (strcmp(d->id, id) == 0 && (strcmp(d->label, "*") == 0 || strcmp(d->label, label) == 0))
            return d;
    return NULL;
}

/* Observation i of c, or an empty one past its end. */
static const struct conf_obs *obs_at(const struct conf_ctx *c, int i)
{
    static const struct conf_obs none = { "(none)", "(none)" };
    return i < c->nobs ? &c->obs[i] : &none;
}

static int obs_same(const struct conf_obs *a, const struct conf_obs *b)
{
    return strcmp(a->label, b->label) == 0 && strcmp(a->value, b->value) == 0;
}

static void judge(struct result *r)
{
    int n = r->k.nobs > r->m.nobs ? r->k.nobs : r->m.nobs;
    int any = 0, bug = 0, undoc = 0;

    if (!r->ran_os || !r->ran_mem) {
        r->verdict = V_NOT_RUN;
        return;
    }
    for (int i = 0; i < n; i++) {
        const struct conf_obs *a = obs_at(&r->k, i), *b = obs_at(&r->m, i);
        const struct conf_difference *d;
        if (obs_same(a, b))
            continue;
        any = 1;
        d = documented(r->s->id, strcmp(a->label, "(none)") ? a->label : b->label);
        if (!d)
            undoc = 1;
        else if (strncmp(d->reason, "BUG:", 4) == 0)
            bug = 1;
    }
    if (!any)
        r->verdict = V_SAME;
    else if (r->s->wip)
        r->verdict = V_WIP;
    else if (undoc)
        r->verdict = V_DIFFERENT;
    else
        r->verdict = bug ? V_BUG : V_DOCUMENTED;
}

static const char *verdict_name(const struct result *r)
{
    static char buf[96];
    switch (r->verdict) {
    case V_SAME: return "same";
    case V_DOCUMENTED: return "different, documented";
    case V_BUG: return "different, known bug (pending fix)";
    case V_WIP:
        snprintf(buf, sizeof buf, "not yet implemented in memory (%s)", r->s->wip);
        return buf;
    case V_DIFFERENT: return "**DIFFERENT, undocumented**";
    default: return "not run";
    }
}

/* Prints s with '|' escaped for a markdown table. */
static void print_escaped(const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", stdout);
        else
            putchar(*s);
    }
}

/* Prints a markdown-safe cell: the observations joined, '|' escaped. */
static void print_obs_cell(const struct conf_ctx *c, const struct conf_ctx *other, int mark)
{
    for (int i = 0; i < c->nobs; i++) {
        int differs = mark && !obs_same(&c->obs[i], obs_at(other, i));
        if (i)
            fputs("; ", stdout);
        if (differs)
            fputs("**", stdout);
        print_escaped(c->obs[i].label);
        fputs(": ", stdout);
        print_escaped(c->obs[i].value);
        if (differs)
            fputs("**", stdout);
    }
    if (c->nobs == 0)
        fputs("(nothing observed)", stdout);
}

/* Each differing observation of r, with the reason when documented. */
static void print_differences(const struct result *r, const char *indent)
{
    int n = r->k.nobs > r->m.nobs ? r->k.nobs : r->m.nobs;
    for (int i = 0; i < n; i++) {
        const struct conf_obs *a = obs_at(&r->k, i), *b = obs_at(&r->m, i);
        const struct conf_difference *d;
        if (obs_same(a, b))
            continue;
        d = documented(r->s->id, strcmp(a->label, "(none)") ? a->label : b->label);
        printf("%s%s `%s`: kernel `%s`, memory `%s` -- %s\n", indent, r->s->id, a->label,
               a->value, strcmp(a->label, b->label) ? b->label : b->value,
               r->s->wip ? "not yet implemented in memory"
                         : d ? d->reason : "UNDOCUMENTED");
    }
}

static int selected(const char *id, int argc, char **argv)
{
    int any = 0;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-')
            continue;
        any = 1;
        if (strcmp(argv[i], id) == 0)
            return 1;
    }
    return !any;
}

int main(int argc, char **argv)
{
    const struct conf_scenario *tables[] = { conf_scen_attach, conf_scen_ioctl, conf_scen_write,
                                             conf_scen_read, conf_scen_state, conf_scen_mq,
                                             conf_scen_ipv6, conf_scen_caps };
    static struct result results[512];
    char why[256] = "";
    int check = 0, verbose = 0, nres = 0, os_ok;
    int counts[V_NOT_RUN + 1] = { 0 }, ran_os = 0, ran_mem = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--check") == 0)
            check = 1;
        else if (strcmp(argv[i], "-v") == 0)
            verbose = 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* First, while the process has one thread: scenarios start threads. */
    os_ok = memio_test_netns_enter(why, sizeof why) == 0;
    if (!os_ok)
        printf("conformance: the kernel (os) half is SKIPPED: %s\n", why);

    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++) {
        for (const struct conf_scenario *s = tables[t]; s->id; s++) {
            struct result *r;
            if (!selected(s->id, argc, argv) || nres >= (int)(sizeof results / sizeof *results))
                continue;
            r = &results[nres++];
            r->s = s;
            if (os_ok)
                r->ran_os = run_on(s, &r->k, 1);
            r->ran_mem = run_on(s, &r->m, 0);
            ran_os += r->ran_os;
            ran_mem += r->ran_mem;
            judge(r);
            counts[r->verdict]++;
            if (check && (r->verdict != V_SAME && r->verdict != V_NOT_RUN))
                print_differences(r, r->verdict == V_DIFFERENT ? "FAIL " : "     ");
            if (verbose) {
                printf("%s (%s): %s\n  kernel: ", s->id, s->what, verdict_name(r));
                print_obs_cell(&r->k, &r->m, 0);
                fputs("\n  memory: ", stdout);
                print_obs_cell(&r->m, &r->k, 0);
                fputs("\n", stdout);
            }
        }
    }

    if (!check) {
        printf("| scenario | what | kernel result | memory result | same or different |\n");
        printf("|---|---|---|---|---|\n");
        for (int i = 0; i < nres; i++) {
            struct result *r = &results[i];
            printf("| %s | ", r->s->id);
            print_escaped(r->s->what);
            fputs(" | ", stdout);
            if (r->ran_os)
                print_obs_cell(&r->k, &r->m, r->verdict != V_SAME);
            else
                fputs("(not run)", stdout);
            fputs(" | ", stdout);
            if (r->verdict == V_SAME)
                fputs("(same)", stdout);
            else
                print_obs_cell(&r->m, &r->k, r->ran_os);
            printf(" | %s |\n", verdict_name(r));
        }
        printf("\nDifferences, with their reasons:\n\n");
        for (int i = 0; i < nres; i++)
            if (results[i].verdict != V_SAME && results[i].verdict != V_NOT_RUN)
                print_differences(&results[i], "- ");
        printf("\n");
    }

    printf("conformance: %d scenarios, %d same on both, %d documented differences "
           "(%d of them known bugs pending a fix), %d not yet implemented in memory, "
           "%d undocumented; os half ran %d, memory half ran %d\n",
           nres, counts[V_SAME], counts[V_DOCUMENTED] + counts[V_BUG], counts[V_BUG],
           counts[V_WIP], counts[V_DIFFERENT], ran_os, ran_mem);
    if (!os_ok)
        printf("conformance: os half skipped (%s): nothing was compared\n", why);
    if (counts[V_DIFFERENT])
        return 1;
    if (!os_ok)
        return check ? MEMIO_TEST_SKIP : 0;
    return 0;
}
