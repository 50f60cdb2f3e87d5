#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_trust.py: who may attach (CTest e2e_trust). Needs root, to run
producers as another user (setpriv); skips (77) otherwise.

  owner-only  [shm] mode = 0600 (the default): a producer of user nobody
              cannot open the segment, so nothing of it is exported; its
              own output is unharmed (tee mode still writes every line); a
              producer of the collector's user attaches. The segment file
              is mode 0600, owned by the collector's user.
  group       mode = 0660, group = nogroup: the same nobody producer
              attaches and every line arrives, with its pid; its attached
              audit event names uid 65534. A producer of user nobody in
              another group (gid 54321, no supplementary groups) still
              cannot attach.

The preload library and the workload are copied to a world-readable
directory so that user nobody can load them wherever the tree lives.
"""
import os
import pwd
import grp
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

N = 300


def shared_dir(env):
    """A world-readable copy of libshmlog.so and shell_loop.sh."""
    d = tempfile.mkdtemp(prefix="shmlog-trust-")
    os.chmod(d, 0o755)
    for src in (env.lib(), os.path.join(h.WORKLOADS, "shell_loop.sh")):
        dst = os.path.join(d, os.path.basename(src))
        shutil.copyfile(src, dst)
        os.chmod(dst, 0o755)
    return d


def as_user(env, d, tag, uid, gid, name):
    """shell_loop.sh TAG N as uid:gid (no supplementary groups), preloaded
    only after the switch; its stdout is kept to show the workload ran, and
    its stderr must not carry a word of the library's."""
    out, err = os.path.join(d, f"{tag}.out"), os.path.join(d, f"{tag}.err")
    fo, fe = open(out, "wb"), open(err, "wb")
    argv = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--",
            "env", f"LD_PRELOAD={os.path.join(d, os.path.basename(env.lib()))}",
            "bash", os.path.join(d, "shell_loop.sh"), tag, str(N)]
    p = env.producer(name, argv, service=f"e2e-trust-{tag}", preload=False, stdout=fo,
                     stderr=fe)
    rc = p.wait(60)
    fo.close()
    fe.close()
    with open(out, "rb") as f:
        lines = f.read().count(b"\n")
    with open(err, "rb") as f:
        noise = [ln for ln in f.read().splitlines() if b"shmlog" in ln.lower()]
    # A refused producer stays inert and silent in the workload's streams.
    h.check(not noise, f"{tag}: the library printed into the workload's stderr: {noise[:3]}")
    return p, rc, lines


def case_owner_only(args, figures, d, nobody):
    env = h.Env(args, "trust-0600")
    st = os.stat(env.seg_path())
    h.check(stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == os.geteuid(),
            f"segment mode {stat.S_IMODE(st.st_mode):o} uid {st.st_uid}")
    p, rc, out_lines = as_user(env, d, "t1", nobody.pw_uid, nobody.pw_gid, "nobody")
    h.check(rc == 0, f"the nobody producer failed ({rc}): the workload was harmed")
    # Our own producer: it attaches, so the pipeline works and a late
    # record of the refused one would have had time to arrive.
    own = env.producer("own", ["bash", os.path.join(h.WORKLOADS, "shell_loop.sh"), "t1own",
                               str(N)], service="e2e-trust-own")
    own.wait(60)
    exp = h.expected_shell("t1own", N)
    env.wait_records(len(exp), timeout=30, pred=lambda r: r["pid"] == own.pid, settle=1.0)
    theirs = [r for r in env.records() if r["pid"] == p.pid]
    mine = [r for r in env.records() if r["pid"] == own.pid]
    figures.append(f"0600: nobody's producer wrote {out_lines} lines to its stdout, "
                   f"{len(theirs)} exported; our user's producer {len(mine)} of {len(exp)}")
    h.check(not theirs, f"0600: {len(theirs)} records of user nobody exported")
    h.check(out_lines > N // 2, f"0600: the nobody producer wrote {out_lines} lines (tee)")
    h.check(len(mine) == len(exp), f"0600: {len(mine)} of {len(exp)} of our own records")
    env.close()


def case_group(args, figures, d, nobody):
    group = grp.getgrgid(nobody.pw_gid).gr_name
    env = h.Env(args, "trust-0660", ini={"shm": {"mode": "0660", "group": group},
                                         "collector": {"audit_events": "true"}})
    st = os.stat(env.seg_path())
    h.check(stat.S_IMODE(st.st_mode) == 0o660 and st.st_gid == nobody.pw_gid,
            f"segment mode {stat.S_IMODE(st.st_mode):o} gid {st.st_gid}, expected 660 "
            f"{nobody.pw_gid}")
    p, rc, _ = as_user(env, d, "t2", nobody.pw_uid, nobody.pw_gid, "nobody-group")
    h.check(rc == 0, f"the nobody producer failed ({rc})")
    exp = h.expected_shell("t2", N)
    recs = env.wait_records(len(exp), timeout=30, pred=lambda r: r["pid"] == p.pid, settle=1.0)
    fig, problems = h.check_captured("group", recs, exp)
    h.check(not problems, f"group: {problems[:5]}")
    attached = [r for r in env.records()
                if r["attrs"].get("event.name") == "shmlog.producer.attached"
                and str(r["attrs"].get("process.pid")) == str(p.pid)]
    h.check(attached and str(attached[0]["attrs"].get("process.real_user.id")) ==
            str(nobody.pw_uid), f"group: attached events {attached[:1]}")
    # The same user in a group the segment does not allow.
    q, rc, _ = as_user(env, d, "t3", nobody.pw_uid, 54321, "nobody-other-group")
    h.check(rc == 0, f"the other-group producer failed ({rc})")
    own = env.producer("own", ["bash", os.path.join(h.WORKLOADS, "shell_loop.sh"), "t3own",
                               "10"], service="e2e-trust-own")
    own.wait(30)
    env.wait_records(len(h.expected_shell("t3own", 10)), timeout=30,
                     pred=lambda r: r["pid"] == own.pid, settle=1.0)
    other = [r for r in env.records() if r["pid"] == q.pid]
    figures.append(f"0660 group {group}: nobody's producer {fig['records']} of {len(exp)} lines, "
                   f"attached event uid {attached[0]['attrs'].get('process.real_user.id')}; "
                   f"in group 54321: {len(other)} exported")
    h.check(not other, f"group: {len(other)} records of a producer outside the group exported")
    env.close()


def test(args):
    if os.geteuid() != 0:
        raise h.Skip("needs root to run producers as another user")
    if not shutil.which("setpriv"):
        raise h.Skip("setpriv (util-linux) missing")
    nobody = pwd.getpwnam("nobody")
    env0 = h.Env(args, "trust-lib", start_daemons=False, receiver=False)
    d = shared_dir(env0)
    env0.close()
    figures = []
    try:
        case_owner_only(args, figures, d, nobody)
        case_group(args, figures, d, nobody)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    h.log("figures:")
    for f in figures:
        h.log("  " + f)


if __name__ == "__main__":
    h.main(test)
