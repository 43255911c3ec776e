/* End to end with Chrome's sandbox on: the Selenium bot runs as an ordinary
 * user (created here when the suite runs as root) without --no-sandbox, so
 * the zygote is pid 1 of a PID namespace of its own and its renderers
 * carry namespace-local pids.  The bot also starts chromedriver through
 * Service(env=...) without LD_PRELOAD, as some bots do.
 *
 * While the page is open, a snapshot of what `ps` shows for the user is
 * taken: `chromereaper ls --tree` must list every one of those processes,
 * live, with the role its command line gives.  Then the bot is killed with
 * SIGKILL, `chromereaper run` reaps, and every process of the snapshot
 * must be dead, nothing of the user left running, and no Chrome temp
 * directory of the user left in /tmp.
 *
 * Needs unprivileged user namespaces (Chromium's namespace sandbox: Debian
 * ships no setuid chrome-sandbox); where the user cannot create one, the
 * test is skipped and says why. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "browser.h"
#include "procfs.h"
#include "role.h"
#include "safestr.h"
#include "support.h"

#define SB_USER "crtest-sandbox"
#define SB_MAX 256

static const char bot_py[] =
    "import os, sys, time\n"
    "from selenium import webdriver\n"
    "from selenium.webdriver.chrome.service import Service\n"
    "from selenium.webdriver.common.by import By\n"
    "ready = sys.argv[1]\n"
    "opts = webdriver.ChromeOptions()\n"
    "opts.binary_location = '/usr/bin/chromium'\n"
    "for flag in ('--headless=new', '--disable-gpu', '--disable-background-networking',\n"
    "             '--disable-component-update', '--disable-sync', '--no-first-run',\n"
    "             '--disable-dev-shm-usage'):\n"
    "    opts.add_argument(flag)\n"
    "# chromedriver's environment drops LD_PRELOAD: the library must follow anyway\n"
    "env = {k: v for k, v in os.environ.items() if k != 'LD_PRELOAD'}\n"
    "driver = webdriver.Chrome(service=Service('/usr/bin/chromedriver', env=env), options=opts)\n"
    "page = 'data:text/html,<title>sandbox</title><p id=count>3</p>'\n"
    "driver.get(page)\n"
    "assert driver.find_element(By.ID, 'count').text == '3'\n"
    "with open(ready + '.tmp', 'w') as f:\n"
    "    f.write('%d\\n' % os.getpid())\n"
    "os.rename(ready + '.tmp', ready)\n"
    "while True:\n"
    "    driver.get(page)\n"
    "    time.sleep(0.2)\n";

struct snap {
    pid_t pid;
    uint64_t start_time;
    enum cr_role r;
    char role[48]; /* as ls should show it: "utility:network" */
    int nested;    /* in a PID namespace below /proc's */
};

static struct {
    uid_t uid;
    gid_t gid;
    int own_user; /* SB_USER: ours to clean up after */
    char dir[256];
    char session[64];
    pid_t run_pid;
    struct snap snap[SB_MAX];
    int n;
} sb;

static const char *sb_path(const char *name)
{
    static char bufs[4][512];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", sb.dir, name);
    return b;
}

/* Live (not zombie) processes of the user. */
static int user_processes(pid_t *pids, int max)
{
    DIR *d = opendir("/proc");
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL && n < max) {
        uint64_t pid;
        uid_t uid;
        struct proc_stat st;
        if (cr_parse_u64(de->d_name, &pid) < 0 || proc_uid_read((pid_t)pid, &uid) < 0 || uid != sb.uid ||
            proc_stat_read((pid_t)pid, &st) < 0 || st.state == 'Z')
            continue;
        pids[n++] = (pid_t)pid;
    }
    if (d)
        closedir(d);
    return n;
}

/* Can the user make the namespaces Chromium's sandbox needs?  0, or an
 * errno from the child that tried. */
static int userns_works(void)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        if (getuid() == 0 && (setgroups(0, NULL) != 0 || setgid(sb.gid) != 0 || setuid(sb.uid) != 0))
            _exit(EPERM);
        if (unshare(CLONE_NEWUSER) != 0)
            _exit(errno);
        if (unshare(CLONE_NEWPID | CLONE_NEWNET) != 0)
            _exit(errno);
        _exit(0);
    }
    int st = ts_waitpid(pid, 30);
    return WIFEXITED(st) ? WEXITSTATUS(st) : EINVAL;
}

static void copy_file(const char *from, const char *to, mode_t mode)
{
    char *argv[] = {"cp", (char *)from, (char *)to, NULL};
    cr_assert_eq(ts_run(argv, NULL), 0, "cp %s %s", from, to);
    cr_assert_eq(chmod(to, mode), 0);
}

static void setup(void)
{
    memset(&sb, 0, sizeof sb);
    sb.run_pid = -1;
    /* crashpad is reparented to `run`, the subreaper; anything that
     * escapes comes back to us, not to init, and the teardown reaps it */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    if (getuid() == 0) {
        struct passwd *pw = getpwnam(SB_USER);
        if (!pw) {
            char *argv[] = {"useradd", "--system", "--no-create-home", "--user-group",
                            "--shell", "/usr/sbin/nologin", SB_USER, NULL};
            char *out = NULL;
            int rc = ts_run(argv, &out);
            cr_assert_eq(rc, 0, "useradd %s: %s", SB_USER, out);
            free(out);
            pw = getpwnam(SB_USER);
        }
        cr_assert_not_null(pw);
        sb.uid = pw->pw_uid;
        sb.gid = pw->pw_gid;
        sb.own_user = 1;
    } else {
        sb.uid = getuid();
        sb.gid = getgid();
    }
    snprintf(sb.session, sizeof sb.session, "crtest-sandbox-%d", (int)getpid());
    ts_tmpdir(sb.dir, sizeof sb.dir, "sandbox");
    cr_assert_eq(chmod(sb.dir, 0755), 0);
    cr_assert_eq(mkdir(sb_path("home"), 0700), 0);
    /* the tool and its library side by side (run finds it there), readable
     * by the user wherever the build tree lives */
    copy_file(ts_build("chromereaper"), sb_path("chromereaper"), 0755);
    copy_file(ts_build("libchromereaper.so"), sb_path("libchromereaper.so"), 0644);
    FILE *f = fopen(sb_path("bot.py"), "w");
    cr_assert_not_null(f);
    fputs(bot_py, f);
    fclose(f);
    if (getuid() == 0) {
        cr_assert_eq(chown(sb.dir, sb.uid, sb.gid), 0);
        cr_assert_eq(chown(sb_path("home"), sb.uid, sb.gid), 0);
    }
}

static void teardown(void)
{
    if (sb.run_pid > 0) {
        /* a failed test: the tool under test is the best cleaner, then force */
        char uid[24];
        snprintf(uid, sizeof uid, "%u", (unsigned)sb.uid);
        char *argv[] = {(char *)ts_build("chromereaper"), "reap", "--session", sb.session, "--uid", uid,
                        "--grace", "0", NULL};
        ts_run(argv, NULL);
        kill(sb.run_pid, SIGKILL);
        ts_waitpid(sb.run_pid, 10);
    }
    /* whatever of the test's own user still runs (root: the user is ours;
     * otherwise only what the snapshot named).  Pids wrap fast: each is
     * pinned (ts_remember) and its owner checked before ts_kill, which
     * signals only the process pinned. */
    for (int i = 0; i < sb.n; i++)
        ts_kill(sb.snap[i].pid, SIGKILL);
    for (int round = 0; sb.own_user && round < 5; round++) {
        pid_t pids[SB_MAX];
        int n = user_processes(pids, SB_MAX);
        for (int i = 0; i < n; i++) {
            uid_t owner;
            ts_remember(pids[i]);
            if (proc_uid_read(pids[i], &owner) == 0 && owner == sb.uid)
                ts_kill(pids[i], SIGKILL);
        }
        if (n == 0)
            break;
        usleep(100 * 1000);
    }
    for (int i = 0; i < 100 && !(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD); i++)
        usleep(50 * 1000);
    registry_unlink((uint32_t)sb.uid, sb.session);
    /* Chrome's temp directories of the user, if the reap did not get them */
    glob_t g;
    if (glob("/tmp/*org.chromium.Chromium*", 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            struct stat st;
            if (lstat(g.gl_pathv[i], &st) == 0 && st.st_uid == sb.uid && sb.uid != getuid())
                ts_rm_rf(g.gl_pathv[i]);
        }
    }
    globfree(&g);
    if (sb.dir[0])
        ts_rm_rf(sb.dir);
    if (sb.own_user) {
        char *argv[] = {"userdel", SB_USER, NULL};
        ts_run(argv, NULL);
    }
}

TestSuite(e2e_sandbox, .init = setup, .fini = teardown, .timeout = 300);

/* The role `ls` must show for a live process: from its command line. */
static enum cr_role expected_role(pid_t pid, char *out, size_t len)
{
    char buf[8192], sub[32], exe[4096];
    size_t n = 0;
    enum cr_role role = CR_ROLE_UNKNOWN;
    if (proc_exe_read(pid, exe, sizeof exe) == 0 && proc_file_read(pid, "cmdline", buf, sizeof buf, &n) == 0)
        role = role_classify_cmdline(exe, buf, n);
    if (role == CR_ROLE_UTILITY && role_utility_subtype_cmdline(buf, n, sub, sizeof sub))
        snprintf(out, len, "utility:%s", sub);
    else
        snprintf(out, len, "%s", role_name(role));
    return role;
}

static pid_t start_bot(void)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        setpgid(0, 0);
        int fd = open(sb_path("run.log"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (getuid() == 0 && (setgroups(0, NULL) != 0 || setgid(sb.gid) != 0 || setuid(sb.uid) != 0))
            _exit(126);
        if (chdir(sb.dir) != 0)
            _exit(126);
        setenv("HOME", sb_path("home"), 1);
        setenv("CHROMEREAPER_LOG", "info", 1);
        unsetenv("LD_PRELOAD");
        unsetenv("CHROMEREAPER_SESSION");
        unsetenv("CHROMEREAPER_LIBRARY");
        char *argv[] = {(char *)sb_path("chromereaper"), "run", "--session", sb.session, "--",
                        "/usr/bin/python3", (char *)sb_path("bot.py"), (char *)sb_path("ready"), NULL};
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

Test(e2e_sandbox, sandboxed_chrome_as_a_user_every_process_listed_then_reaped)
{
    int err = userns_works();
    if (err)
        cr_skip_test("user %u cannot create user and PID namespaces (%s): Chromium's namespace "
                     "sandbox cannot run here (see /proc/sys/user/max_user_namespaces, "
                     "kernel.unprivileged_userns_clone, AppArmor userns restrictions)",
                     (unsigned)sb.uid, strerror(err));
    sb.run_pid = start_bot();
    if (ts_wait_file(sb_path("ready"), 120) != 0) {
        char *text = ts_slurp(sb_path("run.log"));
        cr_assert_fail("the sandboxed Selenium bot never read its page: %s", text ? text : "");
    }
    pid_t bot;
    cr_assert_eq(ts_read_pids(sb_path("ready"), &bot, 1), 1);

    /* the snapshot: what ps shows of the user while the page is open */
    char uid[24];
    snprintf(uid, sizeof uid, "%u", (unsigned)sb.uid);
    char *ps_argv[] = {"ps", "-u", uid, "-o", "pid=,stat=", NULL};
    char *ps = NULL;
    cr_assert_eq(ts_run(ps_argv, &ps), 0, "ps: %s", ps);
    int nested = 0;
    char *save = NULL;
    pid_t watchdog = ts_watchdog_pid(sb.session); /* run's own, reaper side too */
    for (char *l = strtok_r(ps, "\n", &save); l && sb.n < SB_MAX; l = strtok_r(NULL, "\n", &save)) {
        int pid;
        char stat[16];
        struct proc_stat st;
        if (sscanf(l, "%d %15s", &pid, stat) != 2 || stat[0] == 'Z' || pid == sb.run_pid ||
            pid == watchdog || proc_stat_read(pid, &st) != 0)
            continue; /* a zombie is dead already; `run` and its watchdog are the reaper */
        uid_t owner;
        ts_remember(pid);
        if (proc_uid_read(pid, &owner) != 0 || owner != sb.uid)
            continue; /* gone, and the pid reused, since ps listed it */
        struct snap *s = &sb.snap[sb.n++];
        s->pid = pid;
        s->start_time = st.start_time;
        s->r = expected_role(pid, s->role, sizeof s->role);
        s->nested = proc_in_nested_pidns(pid) == 1;
        nested += s->nested;
    }
    free(ps);
    cr_assert_gt(nested, 0, "no process of the session is in a PID namespace: the sandbox is off");
    int roles[CR_ROLE_MAX + 1] = {0}, network = 0;
    for (int i = 0; i < sb.n; i++) {
        roles[sb.snap[i].r]++;
        network += strcmp(sb.snap[i].role, "utility:network") == 0;
    }
    cr_expect_eq(roles[CR_ROLE_OTHER], 1, "the bot");
    cr_expect_eq(roles[CR_ROLE_DRIVER], 1);
    cr_expect_eq(roles[CR_ROLE_BROWSER], 1);
    cr_expect_geq(roles[CR_ROLE_ZYGOTE], 2);
    cr_expect_geq(roles[CR_ROLE_RENDERER], 1);
    cr_expect_geq(roles[CR_ROLE_CRASHPAD], 1);
    cr_expect_eq(network, 1, "the network service");
    cr_log_info("sandbox: %d processes of user %u while the page was open, %d in PID namespaces",
                sb.n, (unsigned)sb.uid, nested);

    /* what a zygote forked (renderers, gpu, utility) holds no writable
     * registry, inside the sandbox as outside */
    int zygote_children = 0;
    for (int i = 0; i < sb.n; i++) {
        if (!tb_zygote_child(sb.snap[i].pid))
            continue;
        zygote_children++;
        cr_expect_eq(tb_maps_registry_writable(sb.snap[i].pid), 0,
                     "zygote child %d (%s) maps the registry writable", (int)sb.snap[i].pid, sb.snap[i].role);
    }
    cr_expect_geq(zygote_children, 1, "no renderer in the session");

    /* ls --tree lists each of them, live, with that role */
    char *ls_argv[] = {(char *)ts_build("chromereaper"), "ls", "--session", sb.session, "--uid", uid,
                       "--tree", NULL};
    char before[SB_MAX][48];
    for (int i = 0; i < sb.n; i++)
        expected_role(sb.snap[i].pid, before[i], sizeof before[i]);
    char *tree = NULL;
    cr_assert_eq(ts_run(ls_argv, &tree), 0, "ls --tree: %s", tree);
    for (int i = 0; i < sb.n; i++) {
        /* alive now, so alive while ls looked (a renderer of a page left
         * behind may have ended since the snapshot: nothing to list) */
        struct proc_stat st;
        if (proc_stat_read(sb.snap[i].pid, &st) != 0 || st.start_time != sb.snap[i].start_time ||
            st.state == 'Z')
            continue;
        /* a zygote's fresh fork renames itself to what it becomes: the
         * role before or after ls looked */
        char after[48], row[1024], want[64], want2[64];
        expected_role(sb.snap[i].pid, after, sizeof after);
        snprintf(want, sizeof want, " %s ", before[i]);
        snprintf(want2, sizeof want2, " %s ", after);
        const char *line = ts_tree_row(tree, sb.snap[i].pid, row, sizeof row);
        cr_expect_not_null(line, "%d (%s) is not listed:\n%s", (int)sb.snap[i].pid, after, tree);
        cr_expect(line && (strstr(row, want) || strstr(row, want2)) && strstr(row, " live "),
                  "%d should be listed live as %s:\n%s", (int)sb.snap[i].pid, after, tree);
    }
    free(tree);

    /* chromedriver ran with the library although its environment lacked it */
    pid_t driver = -1;
    for (int i = 0; i < sb.n; i++)
        if (sb.snap[i].r == CR_ROLE_DRIVER)
            driver = sb.snap[i].pid;
    char preload[600];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", sb_path("libchromereaper.so"));
    cr_expect_eq(proc_environ_has(driver, preload), 1, "chromedriver runs without %s", preload);

    /* the bot dies; run reaps */
    cr_assert_eq(kill(bot, SIGKILL), 0);
    int st = ts_waitpid(sb.run_pid, 120);
    char *log = ts_slurp(sb_path("run.log"));
    cr_assert_neq(st, -1, "run did not finish after the bot died: %s", log);
    sb.run_pid = -1;
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGKILL, "run exited with %#x: %s", st, log);
    cr_expect(strstr(log, " 0 survived"), "%s", log);
    for (int i = 0; i < sb.n; i++) {
        struct proc_stat now;
        int alive = proc_stat_read(sb.snap[i].pid, &now) == 0 && now.start_time == sb.snap[i].start_time &&
                    now.state != 'Z';
        cr_expect_not(alive, "%d (%s%s) survived the reap: %s", (int)sb.snap[i].pid, sb.snap[i].role,
                      sb.snap[i].nested ? ", in a PID namespace" : "", log);
    }
    if (sb.own_user) {
        pid_t left[SB_MAX];
        int n = user_processes(left, SB_MAX);
        cr_expect_eq(n, 0, "%d processes of %s still run (first: %d)", n, SB_USER, n ? (int)left[0] : 0);
        glob_t g;
        int dirs = 0;
        if (glob("/tmp/*org.chromium.Chromium*", 0, NULL, &g) == 0)
            for (size_t i = 0; i < g.gl_pathc; i++) {
                struct stat sbuf;
                if (lstat(g.gl_pathv[i], &sbuf) == 0 && sbuf.st_uid == sb.uid) {
                    dirs++;
                    cr_expect(0, "%s remains", g.gl_pathv[i]);
                }
            }
        globfree(&g);
        cr_expect_eq(dirs, 0);
    }
    free(log);
}
