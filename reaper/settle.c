#include "settle.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rounds.h"

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int live_members(const struct round *r)
{
    int n = 0;
    for (size_t k = 0; k < r->nmembers; k++)
        n += role_is_browser_stack(r->members[k]->role) && tracked_key_alive(&r->members[k]->key);
    return n;
}

/* Live browser-stack members of rounds whose root is gone. */
static int leaving(const struct rounds *rs)
{
    int n = 0;
    for (size_t i = 0; i < rs->n; i++)
        if (!tracked_key_alive(&rs->v[i].root->key)) /* else a leak, not a departure */
            n += live_members(&rs->v[i]);
    return n;
}

int session_settle(struct session *s, double max_sec)
{
    struct rounds rs;
    rounds_build(&rs, s);
    double deadline = now_sec() + max_sec;
    int n;
    while ((n = leaving(&rs)) > 0 && now_sec() < deadline)
        usleep(20000);
    rounds_free(&rs);
    return n;
}

int settle_round_waiting(struct settle_clock *c, const struct round *r, double settle_sec, double now_sec)
{
    size_t i = 0;
    while (i < c->n && memcmp(&c->v[i].root, &r->root->key, sizeof r->root->key) != 0)
        i++;
    if (i == c->n) {
        if (settle_sec <= 0 || !live_members(r))
            return 0;
        if (c->n == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 8;
            c->v = realloc(c->v, c->cap * sizeof *c->v);
            if (!c->v)
                abort();
        }
        c->v[c->n++] = (struct settling_round){.root = r->root->key, .since = now_sec};
        return 1;
    }
    if (now_sec - c->v[i].since < settle_sec && live_members(r))
        return 1;
    c->v[i] = c->v[--c->n]; /* its wait is over: reaped now */
    return 0;
}

void settle_clock_free(struct settle_clock *c)
{
    free(c->v);
    *c = (struct settle_clock){0};
}
