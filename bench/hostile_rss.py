#!/usr/bin/env python3
"""Peak RSS of `matrix` on inputs with one large field (bench/results/hostile_inputs.md, issue 17).

Writes the three inputs of the table (M-TRACE import, GTA bench load, jsonl bench import-run; the middle record
holds the field), runs each command under /usr/bin/time -f %M into a fresh project, and prints the peak RSS in
MB and the factor (peak - `matrix version`) / field. Usage: hostile_rss.py MATRIX [FIELD_BYTES] [--runs N]
(the lowest of N runs is kept) [--only import|load|run] [--keep DIR] [--no-limit: --max-record-bytes 0].
"""
import argparse
import json
import os
import subprocess
import tempfile


def peak_kib(cmd):
    r = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise SystemExit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
    return int(r.stderr.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("matrix")
    ap.add_argument("field", nargs="?", type=int, default=12_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", choices=["import", "load", "run"], action="append")
    ap.add_argument("--keep")
    ap.add_argument("--no-limit", action="store_true", help="pass --max-record-bytes 0")
    a = ap.parse_args()
    d = a.keep or tempfile.mkdtemp(prefix="hostile_rss_")
    os.makedirs(d, exist_ok=True)
    n = a.field

    def mtrace(i, pad=0):
        return {"id": f"t{i}", "conversations": [{"from": "user", "value": f"Find answer {i}" + "x" * pad},
                                                 {"from": "assistant", "value": f"Thought: done\nCode:\n```py\nfinal_answer('{i}')\n```<end_action>"}]}

    def gta(q):
        return {"tools": [], "files": [], "dialogs": [{"role": "user", "content": q}, {"role": "assistant", "content": "a"}],
                "gt_answer": {"whitelist": [["a"]], "blacklist": None}}

    with open(f"{d}/m.json", "w") as f:
        json.dump([mtrace(0), mtrace(1, n), mtrace(2)], f)
    with open(f"{d}/gta.json", "w") as f:
        json.dump({"0": gta("q0"), "1": gta("y" * n), "2": gta("q2")}, f)
    with open(f"{d}/run.jsonl", "w") as f:
        for i, pad in ((0, 0), (1, n), (2, 0)):
            f.write(json.dumps({"task_id": str(i), "answer": "a" + "z" * pad}) + "\n")

    def fresh(name):
        p = f"{d}/{name}.matrix"
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(p + suffix):
                os.remove(p + suffix)
        return p

    lim = ["--max-record-bytes", "0"] if a.no_limit else []
    cmds = {
        "import": lambda: [a.matrix, "import", "--db", fresh("m"), "--format", "mtrace", "--quiet"] + lim + [f"{d}/m.json"],
        "load": lambda: [a.matrix, "bench", "load", "--db", fresh("g"), "--benchmark", "gta"] + lim + [f"{d}/gta.json"],
        "run": lambda: [a.matrix, "bench", "import-run", "--db", fresh("r"), "--benchmark", "gta", "--format", "jsonl"] + lim +
                       [f"{d}/run.jsonl"],
    }
    base = min(peak_kib([a.matrix, "version"]) for _ in range(a.runs))
    print(f"matrix version: {base / 1000 * 1.024:.1f} MB")
    for name in a.only or ["import", "load", "run"]:
        peak = min(peak_kib(cmds[name]()) for _ in range(a.runs))
        mb = peak * 1024 / 1e6
        print(f"{name}: {mb:.1f} MB, factor {(peak - base) * 1024 / n:.1f}x")


if __name__ == "__main__":
    main()
