/* What the CLI says about itself: `--help`, `help CMD`, `CMD --help`,
 * `--version`, usage errors.  The commands are taken from the overview the
 * CLI prints, so a command added later is checked too. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "support.h"

TestSuite(cli, .timeout = 60);

#define MAX_COMMANDS 32

/* `chromereaper ARGS...` (at most 3), its exit code, its output in *out. */
static int cli(char **out, const char *a, const char *b, const char *c)
{
    char *argv[] = {(char *)ts_build("chromereaper"), (char *)a, (char *)b, (char *)c, NULL};
    return ts_run(argv, out);
}

/* The command names in the overview's "  chromereaper NAME ..." lines. */
static int overview_commands(char names[][32])
{
    char *out = NULL;
    cr_assert_eq(cli(&out, "--help", NULL, NULL), 0);
    int n = 0;
    for (char *line = strtok(out, "\n"); line && n < MAX_COMMANDS; line = strtok(NULL, "\n")) {
        char name[32];
        if (sscanf(line, " chromereaper %31[a-z]", name) == 1 && strcmp(name, "help") != 0)
            snprintf(names[n++], 32, "%s", name);
    }
    free(out);
    return n;
}

Test(cli, every_command_has_its_help_on_stdout_with_status_0)
{
    char names[MAX_COMMANDS][32];
    int n = overview_commands(names);
    cr_assert_geq(n, 4, "the overview lists %d commands", n);
    for (int i = 0; i < n; i++) {
        char *by_help = NULL, *by_flag = NULL, *by_short = NULL, want[64];
        cr_assert_eq(cli(&by_help, "help", names[i], NULL), 0, "help %s", names[i]);
        cr_assert_eq(cli(&by_flag, names[i], "--help", NULL), 0, "%s --help", names[i]);
        cr_assert_eq(cli(&by_short, names[i], "-h", NULL), 0, "%s -h", names[i]);
        snprintf(want, sizeof want, "usage: chromereaper %s ", names[i]);
        cr_assert_eq(strncmp(by_help, want, strlen(want)), 0, "help %s says: %s", names[i], by_help);
        cr_assert_str_eq(by_flag, by_help);
        cr_assert_str_eq(by_short, by_help);
        cr_assert_not_null(strstr(by_help, "--help"), "%s's help does not list --help", names[i]);
        free(by_help);
        free(by_flag);
        free(by_short);
    }
}

Test(cli, run_help_is_not_a_usage_error)
{
    char *out = NULL;
    cr_assert_eq(cli(&out, "run", "--help", NULL), 0, "run --help: %s", out);
    cr_assert_not_null(strstr(out, "--grace SEC"), "%s", out);
    free(out);
}

Test(cli, help_of_no_such_command_is_a_usage_error)
{
    char *out = NULL;
    cr_assert_eq(cli(&out, "help", "nosuch", NULL), 2);
    cr_assert_not_null(strstr(out, "no command 'nosuch'"), "%s", out);
    free(out);
}

Test(cli, a_bad_option_shows_that_commands_synopsis)
{
    char *out = NULL;
    cr_assert_eq(cli(&out, "reap", "--nosuch", NULL), 2);
    cr_assert_not_null(strstr(out, "usage: chromereaper reap ("), "%s", out);
    cr_assert_null(strstr(out, "chromereaper run"), "the whole overview for one command's error: %s", out);
    free(out);
}

Test(cli, version_names_the_program_and_the_registry_format)
{
    char *out = NULL, version[32];
    unsigned format;
    cr_assert_eq(cli(&out, "--version", NULL, NULL), 0);
    cr_assert_eq(sscanf(out, "chromereaper %31[0-9.] (registry format %u)", version, &format), 2, "%s", out);
    cr_assert_eq(format, CR_REGISTRY_VERSION);
    free(out);
}

/* The man pages and the bash completion, held to what the binary says. */
TestSuite(docs, .timeout = 60);

static char *source_file(const char *rel)
{
    char *text = ts_slurp(ts_source(rel));
    cr_assert_not_null(text, "cannot read %s", rel);
    return text;
}

/* `text` has `word` with its dashes escaped as groff wants them (\-). */
static int man_has(const char *text, const char *word)
{
    char escaped[128];
    size_t k = 0;
    for (size_t i = 0; word[i] && k + 3 < sizeof escaped; i++) {
        if (word[i] == '-')
            escaped[k++] = '\\';
        escaped[k++] = word[i];
    }
    escaped[k] = '\0';
    return strstr(text, escaped) != NULL;
}

Test(docs, man_pages_render_without_warnings)
{
    static const char *const pages[] = {"docs/man/chromereaper.1", "docs/man/libchromereaper.7"};
    for (size_t i = 0; i < 2; i++) {
        char *out = NULL;
        char *argv[] = {"/bin/sh", "-c", "man --warnings -l \"$0\" 2>&1 >/dev/null", (char *)ts_source(pages[i]), NULL};
        cr_assert_eq(ts_run(argv, &out), 0, "man failed on %s: %s", pages[i], out);
        cr_assert_str_eq(out, "", "man --warnings on %s: %s", pages[i], out);
        free(out);
    }
}

Test(docs, man_page_has_every_command_and_option_the_help_lists)
{
    char *page = source_file("docs/man/chromereaper.1");
    char names[MAX_COMMANDS][32];
    int n = overview_commands(names);
    for (int i = 0; i < n; i++) {
        char cmd_item[64];
        snprintf(cmd_item, sizeof cmd_item, ".TP\n.B %.31s\n", names[i]);
        cr_assert_not_null(strstr(page, cmd_item), "chromereaper(1) does not describe %s", names[i]);
        char *help = NULL;
        cr_assert_eq(cli(&help, "help", names[i], NULL), 0);
        for (char *p = strstr(help, "--"); p; p = strstr(p + 2, "--")) {
            char opt[64];
            if (sscanf(p, "%63[-a-z]", opt) == 1 && strlen(opt) > 2)
                cr_assert(man_has(page, opt), "chromereaper(1) lacks %s of %s", opt, names[i]);
        }
        free(help);
    }
    cr_assert(man_has(page, "--version"));
    free(page);
}

/* Every CHROMEREAPER_* variable a source or header names in a string literal. */
Test(docs, man_page_has_every_environment_variable_the_code_reads)
{
    char *page = source_file("docs/man/chromereaper.1");
    char *argv[] = {"/bin/sh", "-c", "cd \"$0\" && cat reaper/*.[ch] shim/*.[ch] lib/*.[ch]", (char *)ts_source("."), NULL};
    char *code = NULL;
    cr_assert_eq(ts_run(argv, &code), 0);
    int seen = 0;
    for (char *p = strstr(code, "\"CHROMEREAPER_"); p; p = strstr(p + 1, "\"CHROMEREAPER_")) {
        char name[64], item[80];
        if (sscanf(p + 1, "%63[A-Z_]", name) != 1)
            continue;
        snprintf(item, sizeof item, ".B %s\n", name);
        cr_assert_not_null(strstr(page, item), "chromereaper(1) does not describe %s", name);
        seen++;
    }
    cr_assert_gt(seen, 4);
    free(code);
    free(page);
}

Test(docs, man_page_has_every_exit_code)
{
    char *page = source_file("docs/man/chromereaper.1");
    char *header = source_file("reaper/commands.h");
    const char *section = strstr(page, ".SH EXIT STATUS");
    cr_assert_not_null(section);
    int seen = 0;
    for (char *p = strstr(header, "EXIT_"); p; p = strstr(p + 1, "EXIT_")) {
        int code;
        char item[32];
        if (sscanf(p, "EXIT_%*[A-Z_] = %d", &code) != 1)
            continue;
        snprintf(item, sizeof item, ".TP\n.B %d\n", code);
        cr_assert_not_null(strstr(section, item), "chromereaper(1) does not explain exit status %d", code);
        seen++;
    }
    cr_assert_geq(seen, 4);
    free(header);
    free(page);
}

Test(docs, man_pages_carry_the_programs_version)
{
    char *out = NULL, version[32], th[64];
    cr_assert_eq(cli(&out, "--version", NULL, NULL), 0);
    cr_assert_eq(sscanf(out, "chromereaper %31[0-9.]", version), 1);
    snprintf(th, sizeof th, "\"chromereaper %s\"", version);
    static const char *const pages[] = {"docs/man/chromereaper.1", "docs/man/libchromereaper.7"};
    for (size_t i = 0; i < 2; i++) {
        char *page = source_file(pages[i]);
        char *first = strtok(page, "\n");
        cr_assert(first && strncmp(first, ".TH ", 4) == 0 && strstr(first, th), "%s: %s, want %s", pages[i], first, th);
        free(page);
    }
    free(out);
}

/* What the completion offers for the words of `line` (the last one being
 * completed), with the build's chromereaper as the command. */
static char *complete(const char *line)
{
    char script[1024];
    snprintf(script, sizeof script,
             "source \"$0\" && read -ra COMP_WORDS <<<\"$1\"; [[ $1 == *' ' ]] && COMP_WORDS+=(''); "
             "COMP_WORDS[0]=\"$2\"; COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _chromereaper; echo \"${COMPREPLY[*]}\"");
    char *argv[] = {"/bin/bash", "--norc", "-c", script, (char *)ts_source("completion/chromereaper"),
                    (char *)line, (char *)ts_build("chromereaper"), NULL};
    char *out = NULL;
    cr_assert_eq(ts_run(argv, &out), 0, "%s", out);
    return out;
}

/* and, after an option, what its help says it takes */
Test(docs, bash_completion_offers_commands_and_each_commands_options)
{
    struct {
        const char *line, *want;
    } cases[] = {
        {"chromereaper r", "run reap\n"},
        {"chromereaper help w", "watch\n"},
        {"chromereaper -", "--help --version\n"},
        {"chromereaper reap --s", "--session --stale\n"},
        {"chromereaper ls --t", "--tree\n"},
        {"chromereaper run --g", "--grace\n"},
        {"chromereaper run -- /bin/fals", "/bin/false\n"},
        {"chromereaper reap --grace ", "\n"},
        {"chromereaper run --metrics-file /bin/fals", "/bin/false\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = complete(cases[i].line);
        cr_assert_str_eq(got, cases[i].want, "[%s] completes to [%s]", cases[i].line, got);
        free(got);
    }
}

Test(docs, bash_completion_offers_the_callers_session_ids)
{
    char id[64];
    struct cr_registry reg;
    ts_session_create(id, sizeof id, &reg);
    registry_close(&reg);
    char line[128];
    snprintf(line, sizeof line, "chromereaper ls --session %.*s", (int)strlen(id) - 1, id);
    char *got = complete(line);
    ts_session_remove(id);
    cr_assert_not_null(strstr(got, id), "[%s] completes to [%s]", line, got);
    free(got);
}

/* The documents a user gets stand alone: no pointer out of the repository
 * (the design used to live in ../shared), and every relative link in them
 * names a file that exists. */
Test(docs, readme_and_design_links_resolve_inside_the_repository)
{
    static const char *const docs[] = {"README.md", "docs/DESIGN.md"};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        char *text = source_file(docs[i]);
        cr_assert_null(strstr(text, "../shared"), "%s points at ../shared", docs[i]);
        int links = 0;
        for (char *p = strstr(text, "]("); p; p = strstr(p + 2, "](")) {
            char target[256], path[600];
            if (sscanf(p + 2, "%255[^)#]", target) != 1 || strstr(target, "://"))
                continue;
            /* relative to the document's own directory */
            const char *slash = strrchr(docs[i], '/');
            snprintf(path, sizeof path, "%.*s%s", slash ? (int)(slash - docs[i] + 1) : 0, docs[i], target);
            struct stat st;
            cr_assert_eq(stat(ts_source(path), &st), 0, "%s links to %s, which does not exist", docs[i], target);
            links++;
        }
        cr_assert_gt(links, 0, "%s links to nothing", docs[i]);
        free(text);
    }
}
