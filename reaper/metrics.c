#include "metrics.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "browserexe.h"
#include "log.h"
#include "procfs.h"
#include "safestr.h"

void metrics_init(struct metrics *m, const char *path, const char *session, uint32_t uid)
{
    memset(m, 0, sizeof *m);
    if (path)
        cr_strlcpy(m->path, path, sizeof m->path);
    if (session)
        cr_strlcpy(m->session, session, sizeof m->session);
    m->uid = uid;
}

void metrics_reaped(struct metrics *m, const struct reap_result *r, int round)
{
    if (!m || !m->path[0] || r->dry_run)
        return;
    for (size_t i = 0; i < r->ntargets; i++) {
        const struct target *t = &r->targets[i];
        unsigned role = (unsigned)t->role <= CR_ROLE_MAX ? (unsigned)t->role : CR_ROLE_UNKNOWN;
        if (t->outcome == OUTCOME_TERMINATED)
            m->reaped[role][METRICS_TERM]++;
        else if (t->outcome == OUTCOME_KILLED)
            m->reaped[role][METRICS_KILL]++;
        else if (t->outcome == OUTCOME_SURVIVED)
            m->survived++;
    }
    for (size_t i = 0; i < r->ndirs; i++) {
        if (r->dirs[i].action == DIR_REMOVED) {
            m->dirs_removed++;
            m->bytes_freed += r->dirs[i].bytes;
        }
    }
    m->reaps++;
    m->rounds += round != 0;
    m->reap_seconds += r->millis / 1e3;
    m->last_reap_unix = (double)time(NULL);
    metrics_write(m);
}

/* Label values are quoted with \\, \" and \n escaped (the text format's rules). */
static void label_value(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            fputc('\\', out);
        if (*s == '\n')
            fputs("\\n", out);
        else
            fputc(*s, out);
    }
    fputc('"', out);
}

static void header(FILE *out, const char *name, const char *type, const char *help)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(FILE *out, const struct metrics *m, const char *name, const char *role,
                   const char *signal)
{
    fprintf(out, "%s{session=", name);
    label_value(out, m->session);
    if (role) {
        fputs(",role=", out);
        label_value(out, role);
    }
    if (signal) {
        fputs(",signal=", out);
        label_value(out, signal);
    }
    fputs("} ", out);
}

struct live { uint64_t count[CR_ROLE_MAX + 1], rss[CR_ROLE_MAX + 1]; };

/* Live browser-stack processes of the uid, machine-wide, and their RSS. */
static void sample_live(uint32_t uid, struct live *l)
{
    memset(l, 0, sizeof *l);
    DIR *d = opendir("/proc");
    if (!d)
        return;
    long page = sysconf(_SC_PAGESIZE);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        uint64_t pid;
        uid_t owner;
        struct proc_stat st;
        if (cr_parse_u64(de->d_name, &pid) < 0 || pid == 0 || pid > INT32_MAX ||
            proc_uid_read((pid_t)pid, &owner) < 0 || owner != uid ||
            proc_stat_read((pid_t)pid, &st) < 0 || st.state == 'Z')
            continue;
        enum cr_role role = browserexe_role_of_pid((pid_t)pid);
        if (!role_is_browser_stack(role))
            continue;
        char statm[256];
        size_t len;
        unsigned long long size = 0, resident = 0;
        if (proc_file_read((pid_t)pid, "statm", statm, sizeof statm, &len) == 0)
            sscanf(statm, "%llu %llu", &size, &resident);
        l->count[role]++;
        l->rss[role] += (uint64_t)resident * (uint64_t)(page > 0 ? page : 4096);
    }
    closedir(d);
}

void metrics_format(FILE *out, const struct metrics *m)
{
    static const char *const signals[METRICS_NSIGNALS] = {"SIGTERM", "SIGKILL"};
    header(out, "chromereaper_processes_reaped_total", "counter",
           "Browser-stack processes reaped, by role and by the signal that ended them.");
    for (int role = CR_ROLE_DRIVER; role <= CR_ROLE_MAX; role++)
        for (int s = 0; s < METRICS_NSIGNALS; s++) {
            sample(out, m, "chromereaper_processes_reaped_total", role_name(role), signals[s]);
            fprintf(out, "%llu\n", (unsigned long long)m->reaped[role][s]);
        }
    const struct { const char *name, *type, *help; double value; } scalars[] = {
        {"chromereaper_processes_survived_total", "counter", "Processes still alive after SIGKILL.",
         (double)m->survived},
        {"chromereaper_directories_removed_total", "counter",
         "Temporary directories of the sessions removed.", (double)m->dirs_removed},
        {"chromereaper_freed_bytes_total", "counter",
         "Disk space of the removed directories, measured just before removal.", (double)m->bytes_freed},
        {"chromereaper_reap_duration_seconds", "summary", "Time the reaps took.", m->reap_seconds},
        {"chromereaper_rounds_reaped_total", "counter",
         "Driver rounds reaped while the bot kept running.", (double)m->rounds},
        {"chromereaper_last_reap_timestamp_seconds", "gauge",
         "When the last reap ended (Unix time; 0: none yet).", m->last_reap_unix},
    };
    for (size_t i = 0; i < sizeof scalars / sizeof *scalars; i++) {
        header(out, scalars[i].name, scalars[i].type, scalars[i].help);
        int summary = strcmp(scalars[i].type, "summary") == 0;
        char name[128];
        snprintf(name, sizeof name, "%s%s", scalars[i].name, summary ? "_sum" : "");
        sample(out, m, name, NULL, NULL);
        fprintf(out, "%.17g\n", scalars[i].value);
        if (summary) {
            snprintf(name, sizeof name, "%s_count", scalars[i].name);
            sample(out, m, name, NULL, NULL);
            fprintf(out, "%llu\n", (unsigned long long)m->reaps);
        }
    }

    struct live l;
    sample_live(m->uid, &l);
    const struct { const char *name, *help; const uint64_t *by_role; } gauges[] = {
        {"chromereaper_live_browser_processes",
         "Live browser-stack processes of the uid on the machine, by role (after the reap).", l.count},
        {"chromereaper_live_browser_rss_bytes", "Sum of the resident memory of those processes, by role.",
         l.rss},
    };
    for (size_t g = 0; g < 2; g++) {
        header(out, gauges[g].name, "gauge", gauges[g].help);
        for (int role = CR_ROLE_DRIVER; role <= CR_ROLE_MAX; role++) {
            sample(out, m, gauges[g].name, role_name(role), NULL);
            fprintf(out, "%llu\n", (unsigned long long)gauges[g].by_role[role]);
        }
    }
}

int metrics_write(const struct metrics *m)
{
    if (!m || !m->path[0])
        return 0;
    /* the temporary name does not end in .prom: the collector skips it */
    char tmp[PATH_MAX + 32];
    const char *base = cr_basename(m->path);
    snprintf(tmp, sizeof tmp, "%.*s.%s.%d.tmp", (int)(base - m->path), m->path, base, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        log_msg(LOG_WARN, "metrics: cannot write %s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    metrics_format(f, m);
    int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, m->path) < 0) {
        log_msg(LOG_WARN, "metrics: cannot write %s: %s", m->path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}
