/* fork(), vfork() and the glibc clone() wrapper: the parent records the
 * child.  Renderers are zygote forks that never exec, so this is the only
 * place they are seen; a sandboxed zygote's are clone(CLONE_NEWPID)
 * children.  Only the parent does work, after the real call returns:
 * nothing runs in the child, and nothing here takes a lock a multithreaded
 * fork could leave held. */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <unistd.h>

#include "registry.h"
#include "shim.h"

__attribute__((visibility("default"))) pid_t fork(void)
{
    int ns_init = shim_role() == CR_ROLE_ZYGOTE && getpid() == 1;
    pid_t (*real)(void) = SHIM_REAL(fork);
    shim_prepare_children();
    uint64_t before = shim_creation_mark();
    pid_t pid = real();
    if (pid > 0)
        shim_record_process(pid, CR_SEEN_FORK, NULL, NULL, before, shim_boottime_ns());
    else if (pid == 0)
        shim_forked_by_zygote(ns_init);
    return pid;
}

/* What a zygote's clone child runs first: its own copy of the wrapper's
 * frame holds the caller's function. */
struct clone_call {
    int (*fn)(void *);
    void *arg;
    int ns_init;
};

static int zygote_clone_child(void *p)
{
    struct clone_call *c = p;
    shim_forked_by_zygote(c->ns_init);
    return c->fn(c->arg);
}

/* clone(fn, stack, flags, arg, [ptid, tls, ctid]): Chromium's ForkWithFlags
 * calls it with a small stack whose fn longjmps back into the caller's
 * frame, so every argument goes through untouched, and the child never
 * comes back through here.  Reading the three optional arguments when the
 * caller passed fewer is what glibc's own wrapper does: it ignores them
 * unless `flags` asks for them.  Threads (CLONE_THREAD) are not
 * processes. */
__attribute__((visibility("default"))) int clone(int (*fn)(void *), void *stack, int flags,
                                                 void *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    pid_t *ptid = va_arg(ap, pid_t *);
    void *tls = va_arg(ap, void *);
    pid_t *ctid = va_arg(ap, pid_t *);
    va_end(ap);
    int (*real)(int (*)(void *), void *, int, void *, ...) = SHIM_REAL(clone);
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    /* a zygote's child of its own (not a thread, not sharing our memory,
     * so it has its own copy of `call`) first drops the registry */
    struct clone_call call = {.fn = fn, .arg = arg};
    if (shim_role() == CR_ROLE_ZYGOTE && fn && !(flags & (CLONE_VM | CLONE_THREAD | CLONE_VFORK))) {
        call.ns_init = getpid() == 1;
        fn = zygote_clone_child;
        arg = &call;
    }
    if ((flags & CLONE_VM) && !(flags & (CLONE_VFORK | CLONE_THREAD)))
        shim_identity_shared_vm_child();
    if (!(flags & CLONE_THREAD))
        shim_prepare_children();
    uint64_t before = flags & CLONE_THREAD ? 0 : shim_creation_mark();
    int pid = real(fn, stack, flags, arg, ptid, tls, ctid);
    uint64_t after = shim_boottime_ns();
    if (pid > 0 && (flags & CLONE_VFORK))
        shim_env_reclaim(pid);
    if (pid > 0 && !(flags & CLONE_THREAD))
        shim_record_process(pid, CR_SEEN_FORK, NULL, NULL, before, after);
    return pid;
}

/* vfork(): the child borrows our memory and stack until it execs or exits,
 * so no C frame may be live across the call (the child would return
 * through it and leave it clobbered for the parent).  As in glibc's own
 * vfork, the return address goes into a register, the syscall is made,
 * and the address is pushed back; the child returns at once, and only the
 * parent, resumed once the child has exec'd or exited, calls into C to
 * record it.  The child's exec is recorded by the exec wrappers as well. */
/* The parent thread's creation mark, left by the assembly below just
 * before the syscall, brackets the child's start together with a reading
 * taken once the parent resumes (the child has exec'd or exited by then:
 * often within the same tick, else /proc decides).  A vfork child that
 * follows POSIX calls only exec or _exit, so the mark is still the one
 * left before the vfork. */
__attribute__((used)) void shim_vfork_mark(void)
{
    shim_prepare_children();
    (void)shim_creation_mark();
}

__attribute__((used)) void shim_vfork_parent(pid_t pid)
{
    uint64_t after = shim_boottime_ns();
    shim_env_reclaim(pid);
    shim_record_process(pid, CR_SEEN_FORK, NULL, NULL, shim_creation_mark_read(), after);
}

__attribute__((used)) long shim_vfork_failed(long rc)
{
    errno = (int)-rc;
    return -1;
}

#if defined(__x86_64__)
__asm__(".text\n"
        ".globl vfork\n"
        ".type vfork, @function\n"
        ".p2align 4\n"
        "vfork:\n"
        "    .cfi_startproc\n"
        "    subq $8, %rsp\n" /* the thread's creation mark, for the child */
        "    .cfi_adjust_cfa_offset 8\n"
        "    call shim_vfork_mark\n"
        "    addq $8, %rsp\n"
        "    .cfi_adjust_cfa_offset -8\n"
        "    popq %rdx\n" /* return address: preserved by the syscall, ours to use */
        "    .cfi_adjust_cfa_offset -8\n"
        "    .cfi_register %rip, %rdx\n"
        "    movl $58, %eax\n" /* SYS_vfork */
        "    syscall\n"
        "    pushq %rdx\n"
        "    .cfi_adjust_cfa_offset 8\n"
        "    .cfi_rel_offset %rip, 0\n"
        "    cmpq $-4095, %rax\n"
        "    jae 2f\n"
        "    testl %eax, %eax\n"
        "    jz 1f\n"
        /* parent: the child has exec'd or exited; the stack is ours again */
        "    pushq %rax\n"
        "    .cfi_adjust_cfa_offset 8\n"
        "    movl %eax, %edi\n"
        "    call shim_vfork_parent\n"
        "    popq %rax\n"
        "    .cfi_adjust_cfa_offset -8\n"
        "1:  ret\n"
        "2:  subq $8, %rsp\n"
        "    .cfi_adjust_cfa_offset 8\n"
        "    movq %rax, %rdi\n"
        "    call shim_vfork_failed\n"
        "    addq $8, %rsp\n"
        "    .cfi_adjust_cfa_offset -8\n"
        "    ret\n"
        "    .cfi_endproc\n"
        ".size vfork, .-vfork\n");
#endif
