// SPDX-License-Identifier: GPL-2.0
// The agent's process table feed: one record per new process (fork), program image (exec) and process exit,
// taken in the kernel at the moment it happens, so a writer that exits at once is still known when its file
// event is read. CO-RE: built against the build machine's BTF, relocated to the running kernel by libbpf.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

#define KIND_EXEC 1
#define KIND_FORK 2
#define KIND_EXIT 3
#define FILENAME_MAX_LEN 256
#define ARGS_MAX_LEN 512

// Layout read by ProcessRecord.cs: keep the two in step.
struct fim_proc_event {
    __u32 kind;
    __u32 pid;
    __u32 ppid;
    __u32 uid;
    __u32 euid;
    __u32 gid;
    __u32 auid;
    __u32 sessionid;
    __u64 start;        // start_boottime of the process (ns since boot), the pid's identity
    __u64 parent_start; // the parent's, for fork records
    __u64 cgroup;       // id of the process's cgroup v2 (the inode of its directory): which pod, after it has exited
    __u32 filename_len;
    __u32 args_len;
    char comm[16];
    char filename[FILENAME_MAX_LEN];
    char args[ARGS_MAX_LEN];
};

// 2 MiB: user space wakes on the ring's epoll fd and drains it at once, so it holds a burst, not 500 ms of a busy host
// (about 1,800 processes: fork and exit records are small, exec records carry the file name and arguments). It counts
// twice in the agent's resident set (the data pages are mapped twice for wrap-around): 8 MiB made 16 of an idle 70 MB.
struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 2 << 20);
} events SEC(".maps");

// Records that did not fit in the ring buffer: user space stops trusting the table while this grows.
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} dropped SEC(".maps");

static __always_inline void count_drop(void)
{
    __u32 key = 0;
    __u64 *value = bpf_map_lookup_elem(&dropped, &key);
    if (value)
        __sync_fetch_and_add(value, 1);
}

static __always_inline void fill_identity(struct fim_proc_event *e, struct task_struct *task)
{
    struct task_struct *leader = BPF_CORE_READ(task, group_leader);
    e->pid = BPF_CORE_READ(task, tgid);
    e->ppid = BPF_CORE_READ(task, real_parent, tgid);
    e->start = BPF_CORE_READ(leader, start_boottime);
    e->uid = BPF_CORE_READ(task, real_cred, uid.val);
    e->euid = BPF_CORE_READ(task, real_cred, euid.val);
    e->gid = BPF_CORE_READ(task, real_cred, gid.val);
    if (bpf_core_field_exists(task->loginuid)) {
        e->auid = BPF_CORE_READ(task, loginuid.val);
        e->sessionid = BPF_CORE_READ(task, sessionid);
    } else {
        e->auid = (__u32)-1;
        e->sessionid = (__u32)-1;
    }
    BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(fim_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
    struct fim_proc_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (!e) {
        count_drop();
        return 0;
    }
    e->kind = KIND_EXEC;
    fill_identity(e, p);
    e->parent_start = 0;
    e->cgroup = bpf_get_current_cgroup_id();
    // interp: the binary the kernel ran (a script's interpreter), as /proc/<pid>/exe would name it.
    const char *filename = BPF_CORE_READ(bprm, interp);
    long n = bpf_probe_read_kernel_str(&e->filename, sizeof(e->filename), filename);
    e->filename_len = n > 0 ? n - 1 : 0;
    unsigned long arg_start = BPF_CORE_READ(p, mm, arg_start);
    unsigned long arg_end = BPF_CORE_READ(p, mm, arg_end);
    unsigned long len = arg_end - arg_start;
    if (len > ARGS_MAX_LEN)
        len = ARGS_MAX_LEN;
    e->args_len = 0;
    if (len > 0 && bpf_probe_read_user(&e->args, len, (void *)arg_start) == 0)
        e->args_len = len;
    bpf_ringbuf_submit(e, 0);
    return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(fim_fork, struct task_struct *parent, struct task_struct *child)
{
    // A new thread is not a new process.
    if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid))
        return 0;
    struct fim_proc_event *e = bpf_ringbuf_reserve(&events, sizeof(*e) - FILENAME_MAX_LEN - ARGS_MAX_LEN, 0);
    if (!e) {
        count_drop();
        return 0;
    }
    e->kind = KIND_FORK;
    fill_identity(e, child);
    e->ppid = BPF_CORE_READ(parent, tgid);
    e->parent_start = BPF_CORE_READ(parent, group_leader, start_boottime);
    // The child's own cgroup, not the parent's (this runs in the parent): clone3 may place it elsewhere.
    e->cgroup = BPF_CORE_READ(child, cgroups, dfl_cgrp, kn, id);
    e->filename_len = 0;
    e->args_len = 0;
    bpf_ringbuf_submit(e, 0);
    return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(fim_exit, struct task_struct *p)
{
    // Only the process, not each of its threads.
    if (BPF_CORE_READ(p, pid) != BPF_CORE_READ(p, tgid))
        return 0;
    struct fim_proc_event *e = bpf_ringbuf_reserve(&events, sizeof(*e) - FILENAME_MAX_LEN - ARGS_MAX_LEN, 0);
    if (!e) {
        count_drop();
        return 0;
    }
    e->kind = KIND_EXIT;
    e->pid = BPF_CORE_READ(p, tgid);
    e->start = BPF_CORE_READ(p, group_leader, start_boottime);
    // At exit: a process moved after its exec (a container's first process) is named with where it ended.
    e->cgroup = bpf_get_current_cgroup_id();
    bpf_ringbuf_submit(e, 0);
    return 0;
}
